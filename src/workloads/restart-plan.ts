/**
 * What a restart does to each injected workload, decided before anything is touched: restart it,
 * evict it (bare pods, only when asked), or skip it with what the user must do; then the order in
 * which they start: one canary first (the slow start widens from it), then longest rollout first,
 * for an executor that keeps up to `concurrency` rolling. Pure.
 */
import type { InjectedWorkload, WorkloadRef } from './owners.ts';
import { workloadKey } from './owners.ts';
import { UsageError } from '../errors.ts';

export type RestartMode = 'behind' | 'all';

export interface WorkloadObject {
  metadata?: { name?: string; generation?: number };
  spec?: { paused?: boolean; updateStrategy?: { type?: string } };
}

export interface RestartTarget extends WorkloadRef {
  action: 'restart' | 'evict-pod';
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
  /** Workloads left alone because the stopped restart this one continues already brought them over. */
  continued?: number;
}

export interface PlanInput {
  workloads: readonly InjectedWorkload[];
  /** The workload to restart first (--first): the canary of the slow start. Default: the smallest. */
  first?: WorkloadRef | undefined;
  /** Workloads a stopped restart already brought over (its record): left alone when it continues. */
  alreadyRolled?: ReadonlySet<string> | undefined;
  /** Deployment/StatefulSet/DaemonSet objects by workloadKey (missing: deleted meanwhile). */
  objects: ReadonlyMap<string, WorkloadObject>;
  mode: RestartMode;
  targetVersion: string | null;
  deleteBarePods: boolean;
}

const ref = (w: WorkloadRef): string => `${w.kind.toLowerCase()}/${w.name} -n ${w.namespace}`;

/** Why a workload cannot be restarted by the restart annotation, and what to do instead; undefined if it can. */
export function skipReason(
  w: WorkloadRef,
  obj: WorkloadObject | undefined,
  deleteBarePods: boolean,
): string | undefined {
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
      return 'Job pods are not restarted: let them finish (the next run gets the new sidecar) or delete them to re-run now';
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
    if (input.alreadyRolled?.has(workloadKey(w))) {
      plan.continued = (plan.continued ?? 0) + 1;
      continue;
    }
    const behind = input.targetVersion === null || w.pods.some((p) => p.version !== input.targetVersion);
    if (input.mode === 'behind' && !behind) {
      plan.upToDate++;
      continue;
    }
    const base: WorkloadRef = { namespace: w.namespace, kind: w.kind, name: w.name };
    const reason = skipReason(base, input.objects.get(workloadKey(base)), input.deleteBarePods);
    if (reason) plan.skipped.push({ ...base, reason });
    else plan.targets.push({ ...base, action: w.kind === 'Pod' ? 'evict-pod' : 'restart', pods: w.pods.length });
  }
  plan.targets = orderForSlowStart(plan.targets, input.first);
  return plan;
}

/**
 * The start order of a slow start: the canary first (the one asked for, else the smallest: fewest
 * pods, so a broken sidecar shows on the least traffic; never a bare pod), then the rest longest
 * rollout first.
 * Throws when `first` is not among the targets (the CLI checks that before anything runs).
 */
export function orderForSlowStart<T extends WorkloadRef & { pods: number }>(
  targets: readonly T[],
  first?: WorkloadRef,
): T[] {
  if (targets.length === 0) return [];
  let i: number;
  if (first) {
    i = targets.findIndex((t) => workloadKey(t) === workloadKey(first));
    if (i < 0)
      throw new UsageError(
        `--first ${workloadKey(first)} is not among the workloads this restart would restart`,
        'Name one of them (see the order with --dry-run), or leave --first out to start with the smallest.',
      );
  } else {
    // A canary must roll: a bare pod's eviction says nothing about the new sidecar.
    const rolls = (t: T) => t.kind !== 'Pod';
    i = targets.findIndex(rolls);
    if (i < 0) return orderForRollout(targets);
    targets.forEach((t, k) => {
      const c = targets[i]!;
      if (rolls(t) && (t.pods < c.pods || (t.pods === c.pods && workloadKey(t) < workloadKey(c)))) i = k;
    });
  }
  return [targets[i]!, ...orderForRollout(targets.filter((_, k) => k !== i))];
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
  return targets
    .map((t, i) => ({ t, i, r: rounds(t) }))
    .sort((a, b) => b.r - a.r || a.i - b.i)
    .map((x) => x.t);
}

export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** RFC 3339 without fractional seconds, as kubectl's time.Now().Format(time.RFC3339) (in UTC). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The patch `kubectl rollout restart` sends: a new pod-template annotation, so the controller rolls. */
export function restartPatch(nowMs: number): {
  spec: { template: { metadata: { annotations: Record<string, string> } } };
} {
  return { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: rfc3339(nowMs) } } } } };
}
