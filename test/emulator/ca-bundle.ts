import type { KubeObject } from '../../src/kube/client.ts';

/**
 * Pure rules for what the running mesh does to its own registrations: the charts declare webhooks
 * and the APIService with a Service reference and no caBundle; the control plane (SPIRE's bundle in
 * the real mesh) patches its CA in at run time. The emulator does the same with its CA, and never
 * touches anything else in them, so `helm upgrade` (three-way merge or server-side apply) keeps
 * working on what the chart owns.
 */
export const meshWebhookConfigNames: Record<string, string> = {
  'sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx': 'mutating: the sidecar injector (path /inject)',
  'validating-webhook-cfg.internal.builtin.nsm.nginx': 'validating: the policy validator (path /validate)',
  'k8s-workload-registrar.security.builtin.nsm.nginx': 'validating: SPIRE workload registrar for SpiffeIDs',
};
export const meshApiServiceName = 'v1alpha1.nsm.nginx.com';

export const partOfLabel = 'app.kubernetes.io/part-of';
/** Test fixtures that must stay out of other emulator instances' way carry this label instead of part-of. */
export const testMeshLabel = 'nsm-upgrade.test/mesh-webhooks';

export interface ClientConfig {
  url?: string;
  caBundle?: string;
  service?: { name?: string; namespace?: string; path?: string; port?: number };
}

export interface WebhookConfiguration extends KubeObject {
  webhooks?: { name?: string; clientConfig?: ClientConfig; [k: string]: unknown }[];
}

export interface ApiService extends KubeObject {
  spec?: {
    service?: { name?: string; namespace?: string; port?: number };
    caBundle?: string;
    insecureSkipTLSVerify?: boolean;
    group?: string;
    version?: string;
  };
}

export function belongsToMesh(obj: KubeObject, requiredLabels: Record<string, string> = {}): boolean {
  const labels = obj.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(requiredLabels)) if (labels[k] !== v) return false;
  const name = obj.metadata?.name ?? '';
  return (
    name in meshWebhookConfigNames ||
    name === meshApiServiceName ||
    labels[partOfLabel] === 'nginx-service-mesh' ||
    labels[testMeshLabel] === 'true'
  );
}

export type JsonPatchOp = { op: 'test' | 'add'; path: string; value: unknown };

/**
 * The JSON patch that puts `caBundle` into every webhook with a Service reference whose caBundle
 * differs, or undefined when all are current. Each change is guarded by a test of the webhook's
 * name, so a concurrent reorder by an upgrade makes the patch fail instead of hitting another hook.
 */
export function webhookCaPatch(cfg: WebhookConfiguration, caBundle: string): JsonPatchOp[] | undefined {
  const ops: JsonPatchOp[] = [];
  (cfg.webhooks ?? []).forEach((h, i) => {
    if (!h.clientConfig?.service || h.clientConfig.caBundle === caBundle) return;
    ops.push(
      { op: 'test', path: `/webhooks/${i}/name`, value: h.name },
      { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
    );
  });
  return ops.length ? ops : undefined;
}

/** The merge patch for an APIService served through a Service whose caBundle differs, or undefined. */
export function apiServiceCaPatch(svc: ApiService, caBundle: string): { spec: { caBundle: string } } | undefined {
  if (!svc.spec?.service || svc.spec.insecureSkipTLSVerify || svc.spec.caBundle === caBundle) return undefined;
  return { spec: { caBundle } };
}
