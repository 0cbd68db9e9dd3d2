import type { KubeObject } from '../../src/kube/client.ts';
import { statusAnnotation } from './inject.ts';
import { parseImage } from './control-plane.ts';

/**
 * What NGINX Service Mesh's own API answers, as pure functions of cluster objects:
 * - 1.x: the aggregated API `v1alpha1.nsm.nginx.com` (Service nginx-mesh-api:443): discovery of
 *   /apis/nsm.nginx.com/v1alpha1 (what 1.x `deploy` polls, pkg/health), `version` and `resources`;
 * - 2.0: nginx-mesh-controller's `/version` on port 8082, read through the service proxy.
 * Shapes from the vendor's nginx-meshctl source: `version` is map[string][]string printed as
 * "<name> - v<a>, v<b>"; `resources` is mesh.ProxiedResources, namespace -> resource type -> names,
 * printed by `remove` as "<type>/<name>" for `kubectl rollout restart <resource>/<name>`.
 */
export const meshGroup = 'nsm.nginx.com';
export const meshGroupVersion = `${meshGroup}/v1alpha1`;
export const meshApiPath = `/apis/${meshGroupVersion}`;

export const resourceList = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: meshGroupVersion,
  resources: [] as unknown[],
};
export const groupList = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [
    {
      name: meshGroup,
      versions: [{ groupVersion: meshGroupVersion, version: 'v1alpha1' }],
      preferredVersion: { groupVersion: meshGroupVersion, version: 'v1alpha1' },
    },
  ],
};
// The aggregator reads every APIService's OpenAPI; the mesh publishes none of its own.
export const openApiV2 = { swagger: '2.0', info: { title: 'nginx-mesh-api', version: 'v1alpha1' }, paths: {} };
export const openApiV3 = { paths: {} };

interface PodSpecLike {
  containers?: { name?: string; image?: string }[];
  initContainers?: { name?: string; image?: string }[];
}
export interface PodLike extends KubeObject {
  metadata?: KubeObject['metadata'] & {
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  spec?: PodSpecLike;
}
export interface WorkloadLike extends KubeObject {
  spec?: { template?: { spec?: PodSpecLike } };
}

/** Component versions of one mesh: each container image of its Deployments/DaemonSets/StatefulSets, by image name. */
export function componentVersions(workloads: WorkloadLike[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of workloads) {
    for (const c of w.spec?.template?.spec?.containers ?? []) {
      if (!c.image) continue;
      const img = parseImage(c.image);
      const tag = img.tag.replace(/^v/, '');
      const list = (out[img.name] ??= []);
      if (!list.includes(tag)) list.push(tag);
    }
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** The workload a pod belongs to, as `kubectl rollout restart` names it: deployment/web, statefulset/db, pod/x. */
export function workloadOf(pod: PodLike): { type: string; name: string } {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner?.kind || !owner.name) return { type: 'pod', name: pod.metadata?.name ?? '' };
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
    return { type: 'deployment', name: owner.name.slice(0, -(hash.length + 1)) };
  return { type: owner.kind.toLowerCase(), name: owner.name };
}

/** mesh.ProxiedResources: the workloads whose pods still carry a sidecar (injected and not terminating). */
export function proxiedResources(pods: PodLike[]): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const pod of pods) {
    if (pod.metadata?.annotations?.[statusAnnotation] !== 'injected' || pod.metadata?.deletionTimestamp) continue;
    const ns = pod.metadata?.namespace ?? '';
    const { type, name } = workloadOf(pod);
    const names = ((out[ns] ??= {})[type] ??= []);
    if (!names.includes(name)) names.push(name);
  }
  for (const types of Object.values(out)) for (const names of Object.values(types)) names.sort();
  return out;
}
