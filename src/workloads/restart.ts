/**
 * `restartWorkloads`: restarts injected workloads so their pods are re-created (and get their sidecar from
 * the current control plane): one canary first, then a window that widens as workloads finish
 * healthy, up to `concurrency` (slow start), stopping at the failure gate; waits for each with
 * kubectl's rules, then re-reads the pods to say whether the mesh converged.
 */
import { mapSlowStart } from '../concurrency.ts';
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { discoverInjectedWorkloads } from './discover.ts';
import { type InjectedWorkload, type WorkloadRef, workloadKey } from './owners.ts';
import {
  planRestart,
  restartPatch,
  type RestartMode,
  type RestartPlan,
  type RestartTarget,
  type Skipped,
  type WorkloadObject,
} from './restart-plan.ts';
import { describe, workloadRefs, type WaitOptions, type WaitResult } from './rollout-wait.ts';
import { createRolloutWatcher, type RolloutWatcher } from './rollout-watch.ts';
import { isRollingKind } from './rollout-rules.ts';
import { buildSkewReport, type WorkloadSkew } from './skew.ts';
import { failureReason } from './failure-reason.ts';
import type { Recorder, RestartState } from './restart-record.ts';

export interface RestartProgress extends WorkloadRef {
  state: 'restarting' | 'waiting' | 'done' | 'evicted' | 'timeout' | 'failed' | 'blocked';
  message: string;
  /** This workload's place in the start order (1-based), of `total`. */
  index: number;
  total: number;
}

export interface RestartOptions {
  targetVersion: string;
  mode: RestartMode;
  /** The widest the slow start grows: at most this many rolling at once. */
  concurrency: number;
  /** The failure gate: once this many workloads failed, no further one starts (0: never stop). Default 1. */
  maxFailures?: number | undefined;
  /** The canary to restart first (--first); default the smallest. */
  first?: WorkloadRef | undefined;
  /** Per workload, from its restart until its rollout is complete. */
  timeoutMs: number;
  deleteBarePods: boolean;
  onProgress?: ((p: RestartProgress) => void) | undefined;
  /** Pause before watching again after a watch of the rolling workloads ended (default 200 ms, growing on errors). */
  pollMs?: number | undefined;
  /** Only injected workloads in this namespace (default: every namespace). */
  namespace?: string | undefined;
  /** Ctrl-C or SIGTERM: no further workload is started, waits end at once; `interrupted` is set. */
  signal?: AbortSignal | undefined;
  /** Keeps the restart's record (restart-record.ts) up to date; absent: nothing is recorded. */
  recorder?: Recorder | undefined;
  /** Workloads a stopped restart already brought over: this one continues it and leaves them alone. */
  alreadyRolled?: ReadonlySet<string> | undefined;
}

export interface Outcome extends WorkloadRef {
  message: string;
  seconds: number;
  reason?: string | undefined;
}

export interface RestartResult {
  targetVersion: string;
  restarted: Outcome[];
  /** Bare pods evicted (--delete-bare-pods): not re-created. */
  evicted: Outcome[];
  skipped: Skipped[];
  timedOut: Outcome[];
  failed: Outcome[];
  /** Not restarted: the failure gate closed, or the restart was interrupted, first. */
  notStarted: Outcome[];
  /** The restart stopped on a signal (Ctrl-C, SIGTERM). */
  interrupted: boolean;
  /** The failure gate closed: `maxFailures` workloads failed, so the rest were not started. */
  stoppedAtGate: boolean;
  maxFailures: number;
  upToDate: number;
  /** Left alone: the stopped restart this one continued had brought them over already. */
  continued: number;
  /** Most rollouts in flight at once. */
  concurrency: number;
  /** Read after the last rollout: every live injected pod's version. */
  final: { converged: boolean; byVersion: Record<string, number>; behind: WorkloadSkew[] };
}

/** Reads the Deployments/StatefulSets/DaemonSets behind the workloads: one list per kind and namespace. */
async function readObjects(
  deps: Pick<Deps, 'kube'>,
  workloads: readonly InjectedWorkload[],
): Promise<Map<string, WorkloadObject>> {
  const wanted = new Set<string>();
  for (const w of workloads) if (isRollingKind(w.kind)) wanted.add(`${w.kind}\u0000${w.namespace}`);
  const objects = new Map<string, WorkloadObject>();
  await Promise.all(
    [...wanted].map(async (key) => {
      const [kind, namespace] = key.split('\u0000') as [keyof typeof workloadRefs, string];
      for (const o of await listAll<KubeObject>(deps.kube, collectionPath(workloadRefs[kind], namespace))) {
        objects.set(workloadKey({ namespace, kind, name: o.metadata?.name ?? '' }), o);
      }
    }),
  );
  return objects;
}

/**
 * `kubectl rollout restart` then `kubectl rollout status` for one Deployment, StatefulSet or
 * DaemonSet: patches its pod template's restartedAt, then waits on the shared watcher until the
 * rollout that patch started is complete (or `timeoutMs` passes). An API error of the patch is
 * thrown (404: the workload is gone); the caller decides what it means. Used by `restart` and by
 * the restart into the mesh (engine/phases/restart-into-mesh.ts).
 */
export async function rolloutRestart(
  deps: Pick<Deps, 'kube' | 'clock'>,
  watcher: RolloutWatcher,
  w: WorkloadRef,
  opts: WaitOptions & { onRestarted?: () => void },
): Promise<WaitResult> {
  const ref = workloadRefs[w.kind as keyof typeof workloadRefs];
  const patched = await deps.kube.request<{ metadata?: { generation?: number } }>({
    method: 'PATCH',
    path: objectPath(ref, w.name, w.namespace),
    body: restartPatch(deps.clock.now()),
    contentType: 'application/strategic-merge-patch+json',
  });
  opts.onRestarted?.();
  return watcher.wait(w, patched?.metadata?.generation ?? 0, { timeoutMs: opts.timeoutMs, onMessage: opts.onMessage });
}

type RollState = 'done' | 'evicted' | 'blocked' | 'timeout' | 'failed';

/**
 * Evicts a bare pod through the Eviction API, so PodDisruptionBudgets hold: a pod a budget protects
 * now (429) is reported, never forced.
 */
async function evictPod(
  deps: Pick<Deps, 'kube'>,
  t: WorkloadRef,
): Promise<{ state: 'evicted' | 'blocked'; message: string }> {
  try {
    await deps.kube.request({
      method: 'POST',
      path: `${objectPath(core.pods, t.name, t.namespace)}/eviction`,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: t.name, namespace: t.namespace } },
      noRetry: true,
    });
    return { state: 'evicted', message: `pod ${t.namespace}/${t.name} evicted (bare pod: not re-created)` };
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 429) {
      return {
        state: 'blocked',
        message: `a PodDisruptionBudget does not allow evicting pod ${t.namespace}/${t.name} now (${err.message.replace(/^429 \S+ \S+: /, '')}); it was left running: evict it when the budget allows, or delete it yourself`,
      };
    }
    throw err;
  }
}

async function rollOne(
  deps: Deps,
  watcher: RolloutWatcher,
  t: RestartTarget,
  opts: RestartOptions,
  report: (state: RestartProgress['state'], message: string) => void,
): Promise<{ state: RollState; message: string; seconds: number }> {
  const started = deps.clock.now();
  try {
    if (t.action === 'evict-pod') return { ...(await evictPod(deps, t)), seconds: 0 };
    return await rolloutRestart(deps, watcher, t, {
      timeoutMs: opts.timeoutMs,
      onRestarted: () => report('waiting', 'restarted'),
      onMessage: (m) => report('waiting', m),
    });
  } catch (err) {
    const why =
      err instanceof KubeApiError && err.status === 404 ? 'not found (deleted meanwhile?)' : (err as Error).message;
    return {
      state: 'failed',
      message: `${describe(t)}: ${why}`,
      seconds: Math.round((deps.clock.now() - started) / 100) / 10,
    };
  }
}

/** What a restart would do (read-only): targets in start order, and what is skipped. `--dry-run` prints this. */
export async function planWorkloadRestart(
  deps: Pick<Deps, 'kube'>,
  opts: Pick<RestartOptions, 'targetVersion' | 'mode' | 'deleteBarePods' | 'namespace' | 'first' | 'alreadyRolled'>,
): Promise<RestartPlan> {
  const { workloads } = await discoverInjectedWorkloads(deps, opts.namespace);
  const objects = await readObjects(deps, workloads);
  return planRestart({
    workloads,
    objects,
    mode: opts.mode,
    targetVersion: opts.targetVersion,
    deleteBarePods: opts.deleteBarePods,
    first: opts.first,
    alreadyRolled: opts.alreadyRolled,
  });
}

const recordState: Record<RollState, RestartState> = {
  done: 'rolled',
  evicted: 'evicted',
  blocked: 'skipped',
  timeout: 'timed-out',
  failed: 'failed',
};

/**
 * Restarts the injected workloads with a slow start and a failure gate (mapSlowStart): one canary
 * first, widening up to `concurrency` as workloads finish healthy; once `maxFailures` fail (their
 * rollout failed, or did not finish within the timeout), no further workload starts, the ones in
 * flight finish, and each failure carries the cluster's own reason (failure-reason.ts).
 */
export async function restartWorkloads(deps: Deps, opts: RestartOptions): Promise<RestartResult> {
  const plan = await planWorkloadRestart(deps, opts);
  const total = plan.targets.length;
  const maxFailures = opts.maxFailures ?? 1;
  const result: RestartResult = {
    targetVersion: opts.targetVersion,
    restarted: [],
    evicted: [],
    skipped: [...plan.skipped],
    timedOut: [],
    failed: [],
    notStarted: [],
    interrupted: false,
    stoppedAtGate: false,
    maxFailures,
    upToDate: plan.upToDate,
    continued: plan.continued ?? 0,
    concurrency: 0,
    final: { converged: false, byVersion: {}, behind: [] },
  };
  const rec = opts.recorder;
  for (const t of plan.targets) rec?.set(t, 'pending');
  for (const s of plan.skipped) rec?.set(s, 'skipped', s.reason);
  await rec?.flush('running');
  // One list and watch per kind and namespace for every rollout in flight there.
  const watcher = createRolloutWatcher(deps, { pollMs: opts.pollMs });
  const onAbort = () => watcher.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let run;
  try {
    run = await mapSlowStart(
      plan.targets,
      { limit: opts.concurrency, maxFailures, signal: opts.signal },
      async (t, i) => {
        const ref: WorkloadRef = { namespace: t.namespace, kind: t.kind, name: t.name };
        const report = (state: RestartProgress['state'], message: string) =>
          opts.onProgress?.({ ...ref, state, message, index: i + 1, total });
        report('restarting', t.action === 'evict-pod' ? 'evicting bare pod' : 'patching restartedAt');
        const r = await rollOne(deps, watcher, t, opts, report);
        // The cluster's own reason (a quota, an admission refusal, a crash-looping container) beside the rollout's message.
        const reason = r.state === 'failed' || r.state === 'timeout' ? await failureReason(deps, ref) : undefined;
        report(r.state, reason ? `${r.message}: ${reason}` : r.message);
        rec?.set(
          ref,
          recordState[r.state],
          reason ?? (r.state === 'done' || r.state === 'evicted' ? undefined : r.message),
        );
        return { ...r, reason };
      },
      (r) => r.state !== 'failed' && r.state !== 'timeout',
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watcher.close();
  }
  result.concurrency = run.peak;
  plan.targets.forEach((t, i) => {
    const r = run.results[i];
    if (!r) return;
    const ref: WorkloadRef = { namespace: t.namespace, kind: t.kind, name: t.name };
    const outcome: Outcome = {
      ...ref,
      message: r.message,
      seconds: r.seconds,
      ...(r.reason ? { reason: r.reason } : {}),
    };
    if (r.state === 'blocked') result.skipped.push({ ...ref, reason: r.message });
    else
      ({ done: result.restarted, evicted: result.evicted, timeout: result.timedOut, failed: result.failed })[
        r.state
      ].push(outcome);
  });
  result.interrupted = run.stoppedBy === 'signal';
  result.stoppedAtGate = run.stoppedBy === 'gate';
  const failures = result.failed.length + result.timedOut.length;
  for (const i of run.notStarted) {
    const t = plan.targets[i]!;
    const ref: WorkloadRef = { namespace: t.namespace, kind: t.kind, name: t.name };
    const message = result.stoppedAtGate
      ? `not started: the restart stopped after ${failures} failure(s) (--max-failures ${maxFailures})`
      : 'interrupted before it was restarted';
    result.notStarted.push({ ...ref, message, seconds: 0 });
    rec?.set(ref, 'not-started');
  }
  // rollouts finish in any order: list outcomes in plan order (namespace, kind, name)
  for (const list of [result.restarted, result.evicted, result.timedOut, result.failed, result.notStarted])
    list.sort((a, b) => workloadKey(a).localeCompare(workloadKey(b)));
  await rec?.flush(result.stoppedAtGate ? 'stopped-at-gate' : result.interrupted ? 'interrupted' : 'finished');
  const after = await discoverInjectedWorkloads(deps, opts.namespace);
  const final = buildSkewReport({
    meshNamespace: '',
    targetVersion: opts.targetVersion,
    controlPlane: { version: null, components: [] },
    workloads: after.workloads,
    namespaceLabels: new Map(),
  });
  result.final = {
    converged: final.converged,
    byVersion: final.byVersion,
    behind: final.workloads.filter((w) => w.behind),
  };
  return result;
}
