/**
 * `restartWorkloads`: re-rolls injected workloads so their pods are re-created (and re-injected by
 * the current control plane), keeping at most `concurrency` rolling at once (the next one starts
 * as soon as one is done, longest first), waiting for each with kubectl's rules, then re-reads the
 * pods to say whether the mesh converged.
 */
import { mapLimit } from '../concurrency.ts';
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { discoverInjectedWorkloads } from './discover.ts';
import { type InjectedWorkload, type WorkloadRef, workloadKey } from './owners.ts';
import { planRestart, restartPatch, type RestartMode, type RestartPlan, type RestartTarget, type Skipped, type WorkloadObject } from './restart-plan.ts';
import { describe, workloadRefs, type WaitOptions, type WaitResult } from './rollout-wait.ts';
import { createRolloutWatcher, type RolloutWatcher } from './rollout-watch.ts';
import { isRollingKind } from './rollout-rules.ts';
import { buildSkewReport, type WorkloadSkew } from './skew.ts';

export interface RestartProgress extends WorkloadRef {
  state: 'restarting' | 'waiting' | 'done' | 'deleted' | 'timeout' | 'failed';
  message: string;
  /** This workload's place in the start order (1-based), of `total`. */
  index: number;
  total: number;
}

export interface RestartOptions {
  targetVersion: string;
  mode: RestartMode;
  concurrency: number;
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
}

export interface Outcome extends WorkloadRef { message: string; seconds: number }

export interface RestartResult {
  targetVersion: string;
  restarted: Outcome[];
  deleted: Outcome[];
  skipped: Skipped[];
  timedOut: Outcome[];
  failed: Outcome[];
  /** Not restarted because the re-roll was interrupted first. */
  notStarted: Outcome[];
  /** The re-roll stopped on a signal (Ctrl-C, SIGTERM). */
  interrupted: boolean;
  upToDate: number;
  /** Most rollouts in flight at once. */
  concurrency: number;
  /** Read after the last rollout: every live injected pod's version. */
  final: { converged: boolean; byVersion: Record<string, number>; behind: WorkloadSkew[] };
}

/** Reads the Deployments/StatefulSets/DaemonSets behind the workloads: one list per kind and namespace. */
async function readObjects(deps: Pick<Deps, 'kube'>, workloads: readonly InjectedWorkload[]): Promise<Map<string, WorkloadObject>> {
  const wanted = new Set<string>();
  for (const w of workloads) if (isRollingKind(w.kind)) wanted.add(`${w.kind}\u0000${w.namespace}`);
  const objects = new Map<string, WorkloadObject>();
  await Promise.all([...wanted].map(async (key) => {
    const [kind, namespace] = key.split('\u0000') as [keyof typeof workloadRefs, string];
    for (const o of await listAll<KubeObject>(deps.kube, collectionPath(workloadRefs[kind], namespace))) {
      objects.set(workloadKey({ namespace, kind, name: o.metadata?.name ?? '' }), o as WorkloadObject);
    }
  }));
  return objects;
}

/**
 * `kubectl rollout restart` then `kubectl rollout status` for one Deployment, StatefulSet or
 * DaemonSet: patches its pod template's restartedAt, then waits on the shared watcher until the
 * rollout that patch started is complete (or `timeoutMs` passes). An API error of the patch is
 * thrown (404: the workload is gone); the caller decides what it means. Used by `restart` and by
 * the upgrade's re-inject step.
 */
export async function rolloutRestart(deps: Pick<Deps, 'kube' | 'clock'>, watcher: RolloutWatcher, w: WorkloadRef, opts: WaitOptions & { onRestarted?: () => void }): Promise<WaitResult> {
  const ref = workloadRefs[w.kind as keyof typeof workloadRefs];
  const patched = await deps.kube.request<{ metadata?: { generation?: number } }>({ method: 'PATCH', path: objectPath(ref, w.name, w.namespace), body: restartPatch(deps.clock.now()), contentType: 'application/strategic-merge-patch+json' });
  opts.onRestarted?.();
  return watcher.wait(w, patched?.metadata?.generation ?? 0, { timeoutMs: opts.timeoutMs, onMessage: opts.onMessage });
}

async function rollOne(deps: Deps, watcher: RolloutWatcher, t: RestartTarget, opts: RestartOptions, report: (state: RestartProgress['state'], message: string) => void): Promise<{ state: 'done' | 'deleted' | 'timeout' | 'failed'; message: string; seconds: number }> {
  const started = deps.clock.now();
  try {
    if (t.action === 'delete-pod') {
      await deps.kube.request({ method: 'DELETE', path: objectPath(core.pods, t.name, t.namespace) });
      return { state: 'deleted', message: `pod ${t.namespace}/${t.name} deleted (bare pod: not re-created)`, seconds: 0 };
    }
    return await rolloutRestart(deps, watcher, t, { timeoutMs: opts.timeoutMs, onRestarted: () => report('waiting', 'restarted'), onMessage: (m) => report('waiting', m) });
  } catch (err) {
    const why = err instanceof KubeApiError && err.status === 404 ? 'not found (deleted meanwhile?)' : (err as Error).message;
    return { state: 'failed', message: `${describe(t)}: ${why}`, seconds: Math.round((deps.clock.now() - started) / 100) / 10 };
  }
}

/** What a re-roll would do (read-only): targets in start order, and what is skipped. `--dry-run` prints this. */
export async function planWorkloadRestart(deps: Pick<Deps, 'kube'>, opts: Pick<RestartOptions, 'targetVersion' | 'mode' | 'deleteBarePods' | 'namespace'>): Promise<RestartPlan> {
  const { workloads } = await discoverInjectedWorkloads(deps, opts.namespace);
  const objects = await readObjects(deps, workloads);
  return planRestart({ workloads, objects, mode: opts.mode, targetVersion: opts.targetVersion, deleteBarePods: opts.deleteBarePods });
}

export async function restartWorkloads(deps: Deps, opts: RestartOptions): Promise<RestartResult> {
  const plan = await planWorkloadRestart(deps, opts);
  const total = plan.targets.length;
  const result: RestartResult = {
    targetVersion: opts.targetVersion, restarted: [], deleted: [], skipped: plan.skipped, timedOut: [], failed: [], notStarted: [], interrupted: false,
    upToDate: plan.upToDate, concurrency: Math.max(1, Math.min(Math.floor(opts.concurrency), total)), final: { converged: false, byVersion: {}, behind: [] },
  };
  // One list and watch per kind and namespace for every rollout in flight there.
  const watcher = createRolloutWatcher(deps, { pollMs: opts.pollMs });
  const onAbort = () => watcher.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await mapLimit(plan.targets, opts.concurrency, async (t, i) => {
      if (opts.signal?.aborted) { result.notStarted.push({ namespace: t.namespace, kind: t.kind, name: t.name, message: 'interrupted before it was restarted', seconds: 0 }); return; }
      const ref: WorkloadRef = { namespace: t.namespace, kind: t.kind, name: t.name };
      const report = (state: RestartProgress['state'], message: string) => opts.onProgress?.({ ...ref, state, message, index: i + 1, total });
      report('restarting', t.action === 'delete-pod' ? 'deleting bare pod' : 'patching restartedAt');
      const r = await rollOne(deps, watcher, t, opts, report);
      report(r.state, r.message);
      const outcome: Outcome = { ...ref, message: r.message, seconds: r.seconds };
      ({ done: result.restarted, deleted: result.deleted, timeout: result.timedOut, failed: result.failed })[r.state].push(outcome);
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watcher.close();
  }
  result.interrupted = opts.signal?.aborted ?? false;
  // rollouts finish in any order: list outcomes in plan order (namespace, kind, name)
  for (const list of [result.restarted, result.deleted, result.timedOut, result.failed, result.notStarted]) list.sort((a, b) => workloadKey(a).localeCompare(workloadKey(b)));
  const after = await discoverInjectedWorkloads(deps, opts.namespace);
  const final = buildSkewReport({ meshNamespace: '', targetVersion: opts.targetVersion, controlPlane: { version: null, components: [] }, workloads: after.workloads, namespaceLabels: new Map() });
  result.final = { converged: final.converged, byVersion: final.byVersion, behind: final.workloads.filter((w) => w.behind) };
  return result;
}
