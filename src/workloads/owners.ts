/**
 * Owner resolution: which workload a pod belongs to, from the pod's controller reference and,
 * for ReplicaSets and Jobs, their own controller (one list of each, never a request per pod).
 * Pure: the caller lists the pods, ReplicaSets and Jobs.
 */
import { type PodLike, isInjected, isLive, podOptedIn, sidecarVersion } from './injection.ts';

// The names list the kinds the tool knows; `string` keeps a kind it meets and does not know (an owner of another API).
export type WorkloadKind =
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents
  'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job' | 'CronJob' | 'Pod' | string;

export interface WorkloadRef {
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

export interface InjectedPod {
  name: string;
  version: string;
  optedIn: boolean;
}

export interface InjectedWorkload extends WorkloadRef {
  pods: InjectedPod[];
}

interface OwnedLike {
  metadata?: {
    name?: string;
    namespace?: string;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
}

/** `namespace/name` of a ReplicaSet or Job -> its controlling owner (Deployment, CronJob). */
export type OwnerIndex = Map<string, { kind: string; name: string }>;

export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.kind}/${w.name}`;
}

function controllerOf(o: OwnedLike): { kind: string; name: string } | undefined {
  const ref = o.metadata?.ownerReferences?.find((r) => r.controller) ?? undefined;
  return ref?.kind && ref.name ? { kind: ref.kind, name: ref.name } : undefined;
}

/** Indexes ReplicaSets and Jobs by namespace/name to the object that controls them, if any. */
export function ownerIndex(intermediates: readonly OwnedLike[]): OwnerIndex {
  const index: OwnerIndex = new Map();
  for (const o of intermediates) {
    const owner = controllerOf(o);
    if (owner && o.metadata?.name) index.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, owner);
  }
  return index;
}

/** The kinds whose owner is looked up one level further (ReplicaSet -> Deployment, Job -> CronJob). */
export const intermediateKinds: Record<string, string> = {
  ReplicaSet: 'Deployment', // a Deployment's pods are owned by its ReplicaSets
  Job: 'CronJob', // a CronJob's pods are owned by the Jobs it creates
};

/**
 * The workload a pod belongs to. A ReplicaSet or Job missing from the index (not owned, or
 * deleted meanwhile) is itself the workload; a pod with no controller is a bare pod.
 */
export function resolveOwner(pod: PodLike, index: OwnerIndex): WorkloadRef {
  return ownerOf(
    { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', controller: controllerOf(pod) },
    index,
  );
}

/**
 * What the grouping needs of one live injected pod, taken from it as its page arrives: a few short
 * strings instead of the pod (status over 50,000 pods holds these, never the pods).
 */
export interface PodFacts {
  namespace: string;
  name: string;
  controller: { kind: string; name: string } | undefined;
  version: string;
  optedIn: boolean;
}

/** The facts of a live injected pod; undefined for any other pod (not counted). */
export function podFacts(pod: PodLike): PodFacts | undefined {
  if (!isInjected(pod) || !isLive(pod)) return undefined;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    controller: controllerOf(pod),
    version: sidecarVersion(pod),
    optedIn: podOptedIn(pod),
  };
}

/** Which intermediate kinds (ReplicaSet, Job) the pods need resolved: list only those. */
export function neededIntermediates(pods: readonly PodFacts[]): Set<string> {
  const kinds = new Set<string>();
  for (const p of pods) {
    const c = p.controller;
    if (c && c.kind in intermediateKinds) kinds.add(c.kind);
  }
  return kinds;
}

/** The workload a pod (from its facts) belongs to; see resolveOwner. */
function ownerOf(f: Pick<PodFacts, 'namespace' | 'name' | 'controller'>, index: OwnerIndex): WorkloadRef {
  const direct = f.controller;
  if (!direct) return { namespace: f.namespace, kind: 'Pod', name: f.name };
  if (direct.kind in intermediateKinds) {
    const up = index.get(`${f.namespace}/${direct.name}`);
    if (up && up.kind === intermediateKinds[direct.kind])
      return { namespace: f.namespace, kind: up.kind, name: up.name };
  }
  return { namespace: f.namespace, kind: direct.kind, name: direct.name };
}

/** Groups the live injected pods' facts by owning workload, sorted by namespace, kind, name. */
export function groupFacts(facts: Iterable<PodFacts>, index: OwnerIndex): InjectedWorkload[] {
  const groups = new Map<string, InjectedWorkload>();
  for (const f of facts) {
    const ref = ownerOf(f, index);
    const key = workloadKey(ref);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ...ref, pods: [] }));
    g.pods.push({ name: f.name, version: f.version, optedIn: f.optedIn });
  }
  return [...groups.values()].sort((a, b) => workloadKey(a).localeCompare(workloadKey(b)));
}
