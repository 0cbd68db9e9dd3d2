/**
 * Why a workload's restart failed, read from the cluster the way an operator would look: the
 * `FailedCreate` events of its controller (the new ReplicaSet of a Deployment, the StatefulSet or
 * DaemonSet itself: a quota, an admission webhook, a PodSecurity policy refusing the pod), the
 * waiting or failed containers of its new pods (CrashLoopBackOff, ImagePullBackOff, an init
 * container that exits), and last the workload's own conditions (ReplicaFailure, Progressing).
 * Read-only; each read that fails is left out rather than failing the restart's report.
 */
import type { Deps } from '../deps.ts';
import type { KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import type { WorkloadRef } from './owners.ts';
import { workloadRefs } from './rollout-wait.ts';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
interface Workload extends KubeObject {
  metadata?: KubeObject['metadata'] & { uid?: string; annotations?: Record<string, string> };
  spec?: { selector?: { matchLabels?: Record<string, string> } };
  status?: { conditions?: Condition[] };
}
interface ContainerStatus {
  name?: string;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
}
interface PodLike extends KubeObject {
  status?: { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
}
interface EventLike {
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

/** Container states that mean the pod will not become ready by itself. */
const stuck = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'InvalidImageName',
  'RunContainerError',
  'PreCreateHookError',
  'PostStartHookError',
]);

const revision = (o: Workload) => Number(o.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
const when = (e: EventLike) => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '') || 0;

/** The newest FailedCreate event of one object, as "Kind name FailedCreate: message". */
async function failedCreate(
  deps: Pick<Deps, 'kube'>,
  namespace: string,
  kind: string,
  name: string,
): Promise<string | undefined> {
  const events = await listAll<EventLike>(deps.kube, collectionPath(core.events, namespace), {
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name},reason=FailedCreate`,
  });
  const last = events.sort((a, b) => when(b) - when(a))[0];
  return last?.message ? `${kind} ${name} FailedCreate: ${last.message}` : undefined;
}

/** The first stuck container of the workload's pods (the new ReplicaSet's, for a Deployment). */
function stuckContainer(pods: readonly PodLike[]): string | undefined {
  for (const p of pods) {
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
      const w = c.state?.waiting;
      if (w?.reason && stuck.has(w.reason))
        return `pod ${p.metadata?.name}: container ${c.name} ${w.reason}${w.message ? ` (${w.message})` : ''}`;
    }
    for (const c of p.status?.initContainerStatuses ?? []) {
      const t = c.state?.terminated;
      if (t && t.exitCode !== 0)
        return `pod ${p.metadata?.name}: init container ${c.name} exited ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
    }
  }
  return undefined;
}

const selector = (w: Workload) =>
  Object.entries(w.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** The condition that explains a stalled rollout (ReplicaFailure, a Progressing=False). */
function conditionReason(w: Workload): string | undefined {
  const c =
    w.status?.conditions?.find((x) => x.type === 'ReplicaFailure' && x.status === 'True') ??
    w.status?.conditions?.find((x) => x.type === 'Progressing' && x.status === 'False');
  return c ? `${c.type} ${c.reason ?? ''}: ${c.message ?? ''}`.replace(/ +:/, ':') : undefined;
}

/** The cluster's own reason for a failed restart, or undefined when it names none. */
export async function failureReason(deps: Pick<Deps, 'kube'>, ref: WorkloadRef): Promise<string | undefined> {
  const api = workloadRefs[ref.kind as keyof typeof workloadRefs];
  if (!api) return undefined;
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      return undefined;
    }
  };
  const w = await attempt(() => deps.kube.request<Workload>({ path: objectPath(api, ref.name, ref.namespace) }));
  if (!w) return undefined;
  let owner = { kind: ref.kind, name: ref.name };
  let podSelector = selector(w);
  if (ref.kind === 'Deployment') {
    // The newest ReplicaSet this Deployment controls is the one its restart is creating pods for.
    const sets =
      (await attempt(() =>
        listAll<Workload>(
          deps.kube,
          collectionPath(core.replicasets, ref.namespace),
          podSelector ? { labelSelector: podSelector } : {},
        ),
      )) ?? [];
    const mine = sets.filter((s) =>
      (s.metadata?.ownerReferences as { uid?: string }[] | undefined)?.some((o) => o.uid === w.metadata?.uid),
    );
    const newest = mine.sort((a, b) => revision(b) - revision(a))[0];
    if (newest?.metadata?.name) {
      owner = { kind: 'ReplicaSet', name: newest.metadata.name };
      const hash = newest.metadata.labels?.['pod-template-hash'];
      if (hash) podSelector = [podSelector, `pod-template-hash=${hash}`].filter(Boolean).join(',');
    }
  }
  const event = await attempt(() => failedCreate(deps, ref.namespace, owner.kind, owner.name));
  if (event) return event;
  const pods = podSelector
    ? ((await attempt(() =>
        listAll<PodLike>(deps.kube, collectionPath(core.pods, ref.namespace), { labelSelector: podSelector }),
      )) ?? [])
    : [];
  return stuckContainer(pods) ?? conditionReason(w);
}
