import type { KubeObject } from '../../src/kube/client.ts';

/**
 * Pure rules for pointing the mesh's webhook configurations at the emulator. A chart registers
 * `clientConfig.service` (an in-cluster Service the fake pods cannot back); the emulator replaces
 * it with its own loopback URL and CA. The mesh namespace is kept in the URL path
 * (/mesh/<namespace>/<chart path>) so each installed mesh answers with its own version.
 */

/** The configuration names the real charts (1.6.0, 1.7.0, 2.0.0) register. */
export const meshWebhookConfigNames: Record<string, string> = {
  'sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx': 'mutating: the sidecar injector (path /inject)',
  'validating-webhook-cfg.internal.builtin.nsm.nginx': 'validating: the policy validator (path /validate)',
  'k8s-workload-registrar.security.builtin.nsm.nginx': 'validating: SPIRE workload registrar for SpiffeIDs',
};

export const partOfLabel = 'app.kubernetes.io/part-of';

export interface ClientConfig {
  url?: string;
  caBundle?: string;
  service?: { name?: string; namespace?: string; path?: string; port?: number };
}

export interface WebhookConfiguration extends KubeObject {
  webhooks?: { name?: string; clientConfig?: ClientConfig; [k: string]: unknown }[];
}

export interface Target { baseUrl: string; caBundle: string }

export function belongsToMesh(cfg: WebhookConfiguration, requiredLabels: Record<string, string> = {}): boolean {
  const labels = cfg.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(requiredLabels)) if (labels[k] !== v) return false;
  return (cfg.metadata?.name ?? '') in meshWebhookConfigNames || labels[partOfLabel] === 'nginx-service-mesh';
}

/** Where a webhook's calls go now, as {meshNamespace, path}. */
export function routeOf(cc: ClientConfig | undefined): { meshNamespace?: string; path: string } {
  if (cc?.service) return { meshNamespace: cc.service.namespace, path: cc.service.path ?? '/' };
  if (cc?.url) {
    let pathname = '/';
    try { pathname = new URL(cc.url).pathname; } catch { /* keep / */ }
    const m = /^\/mesh\/([^/]+)(\/.*)?$/.exec(pathname);
    return m ? { meshNamespace: m[1], path: m[2] ?? '/' } : { path: pathname };
  }
  return { path: '/' };
}

export function urlFor(target: Target, cc: ClientConfig | undefined): string {
  const r = routeOf(cc);
  const prefix = r.meshNamespace ? `/mesh/${encodeURIComponent(r.meshNamespace)}` : '';
  return `${target.baseUrl}${prefix}${r.path.startsWith('/') ? r.path : `/${r.path}`}`;
}

/** Splits a request path into the mesh namespace (if any) and the chart's path. */
export function parseRequestPath(pathname: string): { meshNamespace?: string; path: string } {
  const m = /^\/mesh\/([^/]+)(\/.*)?$/.exec(pathname);
  return m ? { meshNamespace: decodeURIComponent(m[1]!), path: m[2] ?? '/' } : { path: pathname };
}

/**
 * The webhooks with every clientConfig pointed at the emulator, or undefined when they already
 * are. Everything else (rules, selectors, failurePolicy, sideEffects) is kept as the chart set it.
 */
export function rewriteWebhooks(cfg: WebhookConfiguration, target: Target): WebhookConfiguration['webhooks'] | undefined {
  const hooks = cfg.webhooks ?? [];
  let changed = false;
  const out = hooks.map((h) => {
    const url = urlFor(target, h.clientConfig);
    if (h.clientConfig?.url === url && h.clientConfig.caBundle === target.caBundle && !h.clientConfig.service) return h;
    changed = true;
    return { ...h, clientConfig: { url, caBundle: target.caBundle } };
  });
  return changed ? out : undefined;
}
