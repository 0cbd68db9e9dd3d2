/**
 * Which objects of the mesh namespace are the mesh's, and which are not (a user's Service, Secret,
 * Deployment placed there): nginx-meshctl remove deletes the namespace, and everything in it goes
 * with it. Pure; foreign-objects.ts reads the namespace and turns the verdict into preflight
 * failures. An object is the mesh's, in this order of evidence:
 * - its label or Helm's ownership by the mesh's release (mesh-ownership.ts): every chart object;
 * - Helm's record of the mesh's release (Secret sh.helm.release.v1.<release>.v<N>: labels
 *   owner=helm, name=<release>);
 * - an object of a mesh CRD (leftovers.ts meshCrdNames): the user's are in the backup and restored,
 *   SpiffeIDs are the mesh's own registrations (the SPIRE registrar creates one per node in its own
 *   namespace and one per pod labelled spiffe.io/spiffeid: spiffe/spire mode-crd node_controller.go,
 *   pod_controller.go), each of them owned by its node or pod;
 * - a claim of the spire-server StatefulSet's volumeClaimTemplate spire-data (charts: spire-server.yaml);
 * - Kubernetes' own in every namespace: ServiceAccount `default`, ConfigMap `kube-root-ca.crt`
 *   (root CA publisher), the Endpoints of a mesh Service (same name), a ServiceAccount token Secret
 *   of a mesh ServiceAccount (deleted with it anyway); Events are records of what happened, never
 *   listed;
 * - owned (ownerReferences, by uid) by an object of the mesh: ReplicaSets, Pods, ControllerRevisions,
 *   EndpointSlices, hook Job pods, SpiffeIDs.
 * The charts give the control plane no other way to leave objects in its own namespace: its
 * ClusterRoles let nginx-mesh-api/-controller create Secrets (the registry key it copies into
 * injected namespaces, which the `remove-registry-secrets` hook deletes everywhere BUT the mesh
 * namespace), Pods, Services, Endpoints and Events, and anything it might create without a label
 * cannot be told from a user's: it is reported, and --delete-foreign-objects accepts it.
 */
import type { KubeObject } from '../kube/client.ts';
import { foreignFinalizers, meshEvidence, type MeshRef } from './mesh-ownership.ts';
import { meshCrdNames, spirePvcPattern } from './leftovers.ts';

/** One object of the namespace, with its resource ("plural" or "plural.group") and kind. */
export interface NamespaceItem {
  resource: string;
  kind: string;
  obj: KubeObject;
}

export interface ForeignObject {
  item: NamespaceItem;
  /** Objects of the namespace it owns (its ReplicaSets, Pods, ...), counted by kind. */
  dependents: Record<string, number>;
}

export interface NamespaceVerdict {
  /** Objects that are not the mesh's and own nothing foreign above them (their dependents counted). */
  foreign: ForeignObject[];
  /** Any object (the mesh's or not) holding a finalizer neither the mesh nor Kubernetes removes: the namespace deletion would hang on it. */
  finalizers: { item: NamespaceItem; finalizers: { finalizer: string; controller: string }[] }[];
}

type Meta = { uid?: string; ownerReferences?: { uid?: string }[]; finalizers?: string[] };
const meta = (o: KubeObject) => (o.metadata ?? {}) as NonNullable<KubeObject['metadata']> & Meta;

/** Why the object is the mesh's (or Kubernetes' own in every namespace) without looking at owners, or undefined. */
export function ownEvidence(
  item: NamespaceItem,
  mesh: MeshRef,
  ctx: { serviceNames: ReadonlySet<string>; serviceAccounts: ReadonlySet<string> },
): string | undefined {
  const { resource, obj } = item;
  const name = obj.metadata?.name ?? '';
  const labels = obj.metadata?.labels ?? {};
  const evidence = meshEvidence(obj, mesh);
  if (evidence) return evidence;
  if (resource === 'secrets' && labels.owner === 'helm' && mesh.release && labels.name === mesh.release)
    return `Helm's record of release ${mesh.release}`;
  if ((meshCrdNames as readonly string[]).includes(resource)) return 'an object of a mesh CRD';
  if (resource === 'persistentvolumeclaims' && spirePvcPattern.test(name))
    return 'a claim of StatefulSet spire-server (volumeClaimTemplate spire-data)';
  if (
    (resource === 'serviceaccounts' && name === 'default') ||
    (resource === 'configmaps' && name === 'kube-root-ca.crt')
  )
    return "Kubernetes' own, in every namespace";
  if (resource === 'endpoints' && ctx.serviceNames.has(name)) return `the endpoints of mesh Service ${name}`;
  const sa = obj.metadata?.annotations?.['kubernetes.io/service-account.name'];
  if (
    resource === 'secrets' &&
    (obj as { type?: string }).type === 'kubernetes.io/service-account-token' &&
    sa &&
    ctx.serviceAccounts.has(sa)
  )
    return `the token of ServiceAccount ${sa}`;
  return undefined;
}

/** Pure: the verdict on every object of the mesh namespace. */
export function classifyNamespaceObjects(items: readonly NamespaceItem[], mesh: MeshRef): NamespaceVerdict {
  const direct = (resource: string) =>
    new Set(
      items.filter((i) => i.resource === resource && meshEvidence(i.obj, mesh)).map((i) => i.obj.metadata?.name ?? ''),
    );
  const ctx = { serviceNames: direct('services'), serviceAccounts: new Set([...direct('serviceaccounts'), 'default']) };
  const mine = new Set<NamespaceItem>(items.filter((i) => ownEvidence(i, mesh, ctx)));
  // Ownership by uid, to a fixed point: a Pod of a ReplicaSet of a mesh Deployment is the mesh's.
  const meshUids = new Set([...mine].map((i) => meta(i.obj).uid).filter(Boolean));
  for (let grew = true; grew;) {
    grew = false;
    for (const i of items) {
      if (mine.has(i) || !(meta(i.obj).ownerReferences ?? []).some((r) => r.uid && meshUids.has(r.uid))) continue;
      mine.add(i);
      if (meta(i.obj).uid) meshUids.add(meta(i.obj).uid);
      grew = true;
    }
  }
  const others = items.filter((i) => !mine.has(i));
  const byUid = new Map(others.map((i) => [meta(i.obj).uid, i]));
  // The Endpoints of a Service carry no owner reference, only its name.
  const services = new Map(others.filter((i) => i.resource === 'services').map((i) => [i.obj.metadata?.name, i]));
  const ownersOf = (i: NamespaceItem) => [
    ...(meta(i.obj).ownerReferences ?? []).map((r) => byUid.get(r.uid)),
    ...(i.resource === 'endpoints' ? [services.get(i.obj.metadata?.name)] : []),
  ];
  const rootOf = (i: NamespaceItem, seen = new Set<NamespaceItem>()): NamespaceItem => {
    const owner = ownersOf(i).find((o) => o && !seen.has(o));
    return owner ? rootOf(owner, seen.add(i)) : i;
  };
  const roots = new Map<NamespaceItem, ForeignObject>();
  for (const i of others) {
    const root = rootOf(i);
    const entry = roots.get(root) ?? { item: root, dependents: {} };
    if (root !== i) entry.dependents[i.kind] = (entry.dependents[i.kind] ?? 0) + 1;
    roots.set(root, entry);
  }
  const finalizers = items
    .map((item) => ({ item, finalizers: foreignFinalizers(meta(item.obj).finalizers ?? [], item.resource) }))
    .filter((f) => f.finalizers.length > 0);
  return { foreign: [...roots.values()], finalizers };
}

/** "Deployment nginx-mesh/shop (with 1 ReplicaSet, 2 Pods)". */
export function describeForeign(f: ForeignObject): string {
  const deps = Object.entries(f.dependents).map(
    ([kind, n]) => `${n} ${kind}${n === 1 || kind.endsWith('s') ? '' : 's'}`,
  );
  return `${f.item.kind} ${f.item.obj.metadata?.namespace ?? ''}/${f.item.obj.metadata?.name ?? ''}${deps.length ? ` (with ${deps.join(', ')})` : ''}`;
}
