/**
 * The control plane as the skew report shows it: its version (image tag of nginx-mesh-api in 1.x,
 * nginx-mesh-controller in 2.0) and each component's readiness. `controlPlaneFrom` is pure;
 * `readControlPlane` does the three lists in the mesh namespace.
 */
import type { Deps } from '../deps.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core } from '../kube/paths.ts';
import { imageTag } from '../mesh/detect.ts';

export interface Component {
  name: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  ready: number;
  desired: number;
}

export interface ControlPlane {
  /** The mesh version, or null when no API/controller Deployment is found. */
  version: string | null;
  components: Component[];
}

/** The Deployment that carries the mesh version, newest name first (FACTS.md, "Control plane"). */
export const versionDeployments = [
  'nginx-mesh-controller', // 2.0 renamed nginx-mesh-api
  'nginx-mesh-api', // 1.x
] as const;

interface WorkloadLike {
  metadata?: { name?: string };
  spec?: { replicas?: number; template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
  status?: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number };
}

function component(kind: Component['kind'], o: WorkloadLike): Component {
  const name = o.metadata?.name ?? '';
  if (kind === 'DaemonSet')
    return { name, kind, ready: o.status?.numberReady ?? 0, desired: o.status?.desiredNumberScheduled ?? 0 };
  return { name, kind, ready: o.status?.readyReplicas ?? 0, desired: o.spec?.replicas ?? 1 };
}

/** The version: the tag of the container named like the Deployment, else of its first container. */
export function versionOf(deployment: WorkloadLike): string | null {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const c = containers.find((x) => x.name === deployment.metadata?.name) ?? containers[0];
  return imageTag(c?.image) ?? null;
}

export function controlPlaneFrom(
  deployments: readonly WorkloadLike[],
  statefulSets: readonly WorkloadLike[],
  daemonSets: readonly WorkloadLike[],
): ControlPlane {
  const components = [
    ...deployments.map((o) => component('Deployment', o)),
    ...statefulSets.map((o) => component('StatefulSet', o)),
    ...daemonSets.map((o) => component('DaemonSet', o)),
  ].sort((a, b) => a.name.localeCompare(b.name));
  let version: string | null = null;
  for (const name of versionDeployments) {
    const d = deployments.find((x) => x.metadata?.name === name);
    if (d) {
      version = versionOf(d);
      break;
    }
  }
  return { version, components };
}

export async function readControlPlane(deps: Pick<Deps, 'kube'>, meshNamespace: string): Promise<ControlPlane> {
  const [deployments, statefulSets, daemonSets] = await Promise.all([
    listAll<WorkloadLike>(deps.kube, collectionPath(core.deployments, meshNamespace)),
    listAll<WorkloadLike>(deps.kube, collectionPath(core.statefulsets, meshNamespace)),
    listAll<WorkloadLike>(deps.kube, collectionPath(core.daemonsets, meshNamespace)),
  ]);
  return controlPlaneFrom(deployments, statefulSets, daemonSets);
}
