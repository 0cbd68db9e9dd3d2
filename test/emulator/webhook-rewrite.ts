import type { KubeObject } from '../../src/kube/client.ts';

/**
 * Pure rules for pointing the mesh's webhook configurations at the emulator. A chart registers
 * `clientConfig.service` (an in-cluster Service the fake pods cannot back); the emulator replaces
 * each such webhook with a copy named `emulated.<name>` whose clientConfig is its own loopback
 * URL and CA. The mesh namespace is kept in the URL path (/mesh/<namespace>/<chart path>) so each
 * installed mesh answers with its own version.
 *
 * Why a renamed copy rather than an edited clientConfig: `helm upgrade` (Helm 3's three-way
 * merge and Helm 4's server-side apply alike) re-adds `service` next to an edited `url`, and the
 * API server refuses a clientConfig with both, so every upgrade of the release would fail. With
 * the copy, an upgrade re-adds the chart's entry beside it, which is valid; the emulator then
 * folds it into the copy again (taking any new rules from the new chart).
 */

/** The configuration names the real charts (1.6.0, 1.7.0, 2.0.0) register. */
export const meshWebhookConfigNames: Record<string, string> = {
  'sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx': 'mutating: the sidecar injector (path /inject)',
  'validating-webhook-cfg.internal.builtin.nsm.nginx': 'validating: the policy validator (path /validate)',
  'k8s-workload-registrar.security.builtin.nsm.nginx': 'validating: SPIRE workload registrar for SpiffeIDs',
};

export const partOfLabel = 'app.kubernetes.io/part-of';
/** Test fixtures that must stay out of other emulator instances' way carry this label instead of part-of. */
export const testMeshLabel = 'nsm-upgrade.test/mesh-webhooks';
export const emulatedPrefix = 'emulated.';

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
  return (cfg.metadata?.name ?? '') in meshWebhookConfigNames || labels[partOfLabel] === 'nginx-service-mesh' || labels[testMeshLabel] === 'true';
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
 * The webhooks pointed at the emulator, or undefined when nothing needs to change.
 * - Chart entries present (an install, or an upgrade that re-added them all): the result is one
 *   copy of each, with the chart's rules, selectors and failurePolicy; older copies are dropped,
 *   so a webhook the new chart no longer has (1.x `nginx-mesh-api.*` after 2.0) goes too.
 * - Only copies present: each is re-pointed if its URL or CA is not the emulator's.
 */
export function rewriteWebhooks(cfg: WebhookConfiguration, target: Target): WebhookConfiguration['webhooks'] | undefined {
  const hooks = cfg.webhooks ?? [];
  const isCopy = (h: { name?: string }) => h.name?.startsWith(emulatedPrefix) ?? false;
  const point = (h: (typeof hooks)[number]) => ({ ...h, name: isCopy(h) ? h.name : `${emulatedPrefix}${h.name ?? ''}`, clientConfig: { url: urlFor(target, h.clientConfig), caBundle: target.caBundle } });
  const chart = hooks.filter((h) => !isCopy(h));
  if (chart.length) return chart.map(point);
  const current = (h: (typeof hooks)[number]) => h.clientConfig?.url === urlFor(target, h.clientConfig) && h.clientConfig.caBundle === target.caBundle && !h.clientConfig.service;
  return hooks.every(current) ? undefined : hooks.map((h) => (current(h) ? h : point(h)));
}
