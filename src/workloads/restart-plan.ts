/**
 * What a re-roll does to each injected workload, decided before anything is touched: restart it,
 * delete it (bare pods, only when asked), or skip it with what the user must do; then the order in
 * which they start, longest rollout first, for an executor that keeps `concurrency` rolling. Pure.
 */
import type { InjectedWorkload, WorkloadRef } from './owners.ts';
import { workloadKey } from './owners.ts';

export type RestartMode = 'behind' | 'all';

export interface WorkloadObject {
  metadata?: { name?: string; generation?: number };
  spec?: { paused?: boolean; updateStrategy?: { type?: string } };
}

export interface RestartTarget extends WorkloadRef {
  action: 'restart' | 'delete-pod';
  /** Live injected pods it has now (what its rollout will replace). */
  pods: number;
}

export interface Skipped extends WorkloadRef {
  reason: string;
}

export interface RestartPlan {
  targets: RestartTarget[];
  skipped: Skipped[];
  /** Workloads left alone because every pod already runs the target version (mode behind). */
  upToDate: number;
}

export interface PlanInput {
  workloads: readonly InjectedWorkload[];
  /** Deployment/StatefulSet/DaemonSet objects by workloadKey (missing: deleted meanwhile). */
  objects: ReadonlyMap<string, WorkloadObject>;
  mode: RestartMode;
  targetVersion: string | null;
  deleteBarePods: boolean;
}

const ref = (w: WorkloadRef): string => `${w.kind.toLowerCase()}/${w.name} -n ${w.namespace}`;

/** Why a workload cannot be re-rolled by the restart annotation, and what to do instead; undefined if it can. */
export function skipReason(w: WorkloadRef, obj: WorkloadObject | undefined, deleteBarePods: boolean): string | undefined {
  switch (w.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
      if (!obj) return `${w.kind} not found (deleted meanwhile?)`;
      if (w.kind === 'Deployment' && obj.spec?.paused) {
        // kubectl refuses too: "can't restart paused deployment (run rollout resume first)"
        return `paused: run "kubectl rollout resume ${ref(w)}", then restart again`;
      }
      if (w.kind !== 'Deployment' && obj.spec?.updateStrategy?.type === 'OnDelete') {
        // the controller re-creates pods only when they are deleted
        return `updateStrategy OnDelete: delete its pods ("kubectl delete pod -n ${w.namespace} <pod>...") so they are re-created with the new sidecar`;
      }
      return undefined;
    case 'Job':
    case 'CronJob':
      // a Job's pods run to completion; the next Job the CronJob creates gets the new sidecar
      return 'Job pods are not re-rolled: let them finish (the next run gets the new sidecar) or delete them to re-run now';
    case 'Pod':
      if (deleteBarePods) return undefined;
      return 'bare pod (no controller): re-create it yourself, or pass --delete-bare-pods to delete it (it is NOT re-created)';
    default:
      // e.g. a ReplicaSet without a Deployment, a ReplicationController, a custom controller
      return `owned by a ${w.kind}, which the restart annotation does not reach: delete its pods so its controller re-creates them`;
  }
}

export function planRestart(input: PlanInput): RestartPlan {
  const plan: RestartPlan = { targets: [], skipped: [], upToDate: 0 };
  for (const w of input.workloads) {
    const behind = input.targetVersion === null || w.pods.some((p) => p.version !== input.targetVersion);
    if (input.mode === 'behind' && !behind) { plan.upToDate++; continue; }
    const base: WorkloadRef = { namespace: w.namespace, kind: w.kind, name: w.name };
    const reason = skipReason(base, input.objects.get(workloadKey(base)), input.deleteBarePods);
    if (reason) plan.skipped.push({ ...base, reason });
    else plan.targets.push({ ...base, action: w.kind === 'Pod' ? 'delete-pod' : 'restart', pods: w.pods.length });
  }
  plan.targets = orderForRollout(plan.targets);
  return plan;
}

/**
 * How many pod replacements a rollout makes one after another (its length, in rounds), by kind,
 * with the controllers' default update settings.
 */
export const rolloutRounds: Record<string, (pods: number) => number> = {
  StatefulSet: (n) => n, // RollingUpdate replaces one pod at a time, each waiting for the previous to be Ready
  DaemonSet: (n) => n, // maxUnavailable 1 by default: one node at a time
  Deployment: (n) => Math.ceil(n / Math.max(1, Math.ceil(n * 0.25))), // maxSurge 25% (at least 1): up to four rounds
  Pod: () => 0, // a bare pod is deleted: nothing to wait for
};

/**
 * Longest rollout first (LPT scheduling): with a bounded number rolling at once, the long ones
 * start early and the run does not end waiting on one late StatefulSet. Stable for equal lengths.
 */
export function orderForRollout<T extends WorkloadRef & { pods: number }>(targets: readonly T[]): T[] {
  const rounds = (t: T) => (rolloutRounds[t.kind] ?? rolloutRounds.Deployment!)(t.pods);
  return targets.map((t, i) => ({ t, i, r: rounds(t) })).sort((a, b) => b.r - a.r || a.i - b.i).map((x) => x.t);
}

export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** RFC 3339 without fractional seconds, as kubectl's time.Now().Format(time.RFC3339) (in UTC). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The patch `kubectl rollout restart` sends: a new pod-template annotation, so the controller rolls. */
export function restartPatch(nowMs: number): { spec: { template: { metadata: { annotations: Record<string, string> } } } } {
  return { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: rfc3339(nowMs) } } } } };
}
