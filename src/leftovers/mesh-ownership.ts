/**
 * What makes an object the mesh's, and whose a finalizer is: the evidence the leftover clearing
 * (leftovers.ts) and the mesh-namespace check (foreign-objects.ts) act on. Pure.
 *
 * An object is the mesh's when it carries the label every chart object carries
 * (app.kubernetes.io/part-of=nginx-service-mesh: every template and every CRD of
 * ../shared/nsm-reference/charts/{1.5.0,1.6.0,1.7.0,2.0.0}, and the charts embedded in
 * nginx-meshctl, meshctl-src/{1.7.0,2.0.0}/helm-chart), or Helm's ownership annotations naming the
 * mesh's release in its namespace (Helm 3.2+ writes them on every object it creates). A name
 * alone (`csi-driver-sentinel`, `*.nsm.nginx`) or an API group alone (`metrics.smi-spec.io` is
 * SMI's, served by other meshes too) is not evidence.
 */
import type { KubeObject } from '../kube/client.ts';

import { partOfLabel } from '../mesh/catalog.ts';

export { partOfLabel };

/** The mesh an object may belong to: its namespace and Helm release (nginx-meshctl's is always nginx-service-mesh). */
export interface MeshRef {
  namespace: string;
  release?: string | undefined;
}

/** Why the object is the mesh's (the label, or Helm's ownership by the mesh's release), or undefined. */
export function meshEvidence(obj: KubeObject, mesh?: MeshRef): string | undefined {
  if (obj.metadata?.labels?.[partOfLabel.key] === partOfLabel.value)
    return `label ${partOfLabel.key}=${partOfLabel.value}`;
  const a = obj.metadata?.annotations ?? {};
  if (
    mesh?.release &&
    a['meta.helm.sh/release-name'] === mesh.release &&
    a['meta.helm.sh/release-namespace'] === mesh.namespace
  )
    return `Helm release ${mesh.namespace}/${mesh.release}`;
  return undefined;
}

/** What an object lacks to be the mesh's, for a message. */
export function noEvidence(mesh?: MeshRef): string {
  return `it has neither the label ${partOfLabel.key}=${partOfLabel.value}${mesh?.release ? ` nor Helm's ownership by release ${mesh.namespace}/${mesh.release}` : ''}`;
}

/**
 * The one finalizer a mesh controller sets: the SPIRE k8s-workload-registrar the charts run in
 * CRD mode (configs/k8s-workload-registrar.conf: mode = "crd") adds `finalizers.spiffeid.spiffe.io`
 * to every SpiffeID (spiffe/spire, support/k8s/k8s-workload-registrar/mode-crd/controllers/
 * spiffeid_controller.go: myFinalizerName) and removes it once the SPIRE entry is deleted; with the
 * registrar gone, the charts' post-delete hook `remove-spiffeids` strips it
 * (templates/post-delete-hook.yaml, 1.5.0 to 2.0.0). No other mesh component sets one: the
 * charts' other Roles and ClusterRoles grant no finalizers subresource, and nginx-meshctl's source
 * (meshctl-src/1.7.0, 2.0.0) names no finalizer outside that hook.
 */
export const meshFinalizers: Readonly<Record<string, { resource: string; controller: string }>> = {
  'finalizers.spiffeid.spiffe.io': {
    resource: 'spiffeids.spiffeid.spiffe.io',
    controller: "the mesh's SPIRE k8s-workload-registrar (it deletes the SPIFFE ID's SPIRE entry first)",
  },
};

/** Kubernetes' own finalizers, which their controllers remove by themselves (a deletion waits on them, never forever). */
export const selfClearingFinalizers: Readonly<Record<string, string>> = {
  'kubernetes.io/pvc-protection': "kube-controller-manager's PVC protection (removed once no pod uses the claim)",
  'kubernetes.io/pv-protection': "kube-controller-manager's PV protection (removed once no claim is bound)",
  foregroundDeletion: 'the garbage collector (removed once the dependents are deleted)',
  orphan: 'the garbage collector (removed once the dependents are orphaned)',
  'batch.kubernetes.io/job-tracking': 'the Job controller (removed once it has counted the pod)',
};

/** Finalizers of other controllers the tool can name. */
const knownControllers: Readonly<Record<string, string>> = {
  'service.kubernetes.io/load-balancer-cleanup':
    "the cloud provider's service controller (cloud-controller-manager), which deletes the Service's cloud load balancer first",
};

/**
 * Whose finalizer this is on an object of `resource` ("plural.group"): the mesh's (only on the kind
 * its controller sets it on), Kubernetes' own (clears itself) or another controller's, named.
 */
export function finalizerOwner(
  f: string,
  resource: string,
): { owner: 'mesh' | 'kubernetes' | 'other'; controller: string } {
  const mesh = meshFinalizers[f];
  if (mesh?.resource === resource) return { owner: 'mesh', controller: mesh.controller };
  const k8s = selfClearingFinalizers[f];
  if (k8s) return { owner: 'kubernetes', controller: k8s };
  const slash = f.indexOf('/');
  return {
    owner: 'other',
    controller:
      knownControllers[f] ?? (slash > 0 ? `a controller of ${f.slice(0, slash)}` : 'the controller that set it'),
  };
}

/** Finalizers of an object of `resource` that neither the mesh nor Kubernetes itself removes, with their controllers. */
export function foreignFinalizers(
  finalizers: readonly string[],
  resource: string,
): { finalizer: string; controller: string }[] {
  return finalizers
    .map((f) => ({ finalizer: f, ...finalizerOwner(f, resource) }))
    .filter((x) => x.owner === 'other')
    .map(({ finalizer, controller }) => ({ finalizer, controller }));
}

/** One line per foreign finalizer: "x (set by ...)". */
export function describeFinalizers(list: readonly { finalizer: string; controller: string }[]): string {
  return list.map((f) => `${f.finalizer} (set by ${f.controller})`).join(', ');
}
