import { mapSlowStart } from '../../concurrency.ts';
import { failureReason } from '../../workloads/failure-reason.ts';
import type { Deps } from '../../deps.ts';
import type { WorkloadRef } from '../../workloads/owners.ts';
import { isRollingKind } from '../../workloads/rollout-rules.ts';
import { rolloutRestart } from '../../workloads/restart.ts';
import { createRolloutWatcher } from '../../workloads/rollout-watch.ts';
import { KubeApiError } from '../../kube/client.ts';

/**
 * Restarts workloads that were injected before the upgrade but have no sidecar now. On the manual
 * OpenShift path every injected workload is restarted without the mesh (so the CSI sentinel can
 * finish); after the redeploy their pods carry no sidecar, so "behind" would not find them: the
 * list recorded at backup time says which workloads must come back into the mesh. The restart is
 * `restart`'s own (rolloutRestart on one shared watcher) with its slow start and failure gate: one
 * first, widening up to `concurrency` as workloads come back healthy, none started after
 * `maxFailures` failed. A workload deleted meanwhile is reported and skipped; any other API error
 * stops the step (no further workload is started).
 */
export async function restartIntoMesh(
  deps: Deps,
  workloads: readonly WorkloadRef[],
  opts: {
    timeoutMs: number;
    concurrency: number;
    maxFailures?: number | undefined;
    progress: (m: string) => void;
    signal?: AbortSignal | undefined;
  },
): Promise<{ restarted: string[]; unresolved: string[] }> {
  const restarted: string[] = [];
  const unresolved: string[] = [];
  const rolling = workloads.filter((w) => isRollingKind(w.kind));
  for (const w of workloads.filter((x) => !isRollingKind(x.kind))) {
    unresolved.push(
      `${w.kind} ${w.namespace}/${w.name}: had a sidecar before the upgrade and has no controller that re-creates its pods; re-create it to bring it back into the mesh`,
    );
  }
  // The same shared list+watch per kind and namespace as `restart` waits on.
  const watcher = createRolloutWatcher(deps);
  // Ctrl-C: no further workload starts, and the waits in flight end (the watcher closes).
  const onAbort = () => watcher.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const name = (w: WorkloadRef) => `${w.kind} ${w.namespace}/${w.name}`;
  try {
    // The same slow start and failure gate as every restart: one first, widening as they come back healthy.
    const run = await mapSlowStart(
      rolling,
      { limit: opts.concurrency, maxFailures: opts.maxFailures ?? 1, signal: opts.signal },
      async (w) => {
        try {
          const r = await rolloutRestart(deps, watcher, w, {
            timeoutMs: opts.timeoutMs,
            onMessage: (m) => opts.progress(`${name(w)}: ${m}`),
          });
          if (r.state === 'done') {
            restarted.push(name(w));
            return true;
          }
          const reason = await failureReason(deps, w);
          unresolved.push(`${name(w)}: ${r.message}${reason ? `; reason: ${reason}` : ''}`);
          return false;
        } catch (err) {
          if (err instanceof KubeApiError && err.status === 404) {
            opts.progress(`${name(w)} no longer exists`);
            return true;
          }
          throw err;
        }
      },
      (ok) => ok,
    );
    const why =
      run.stoppedBy === 'gate'
        ? `not restarted: the restart stopped at the failure gate (--max-failures ${opts.maxFailures ?? 1}); fix the cause, then continue with --resume`
        : 'interrupted before it was restarted';
    for (const i of run.notStarted) unresolved.push(`${name(rolling[i]!)}: ${why}`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watcher.close();
  }
  return { restarted, unresolved };
}
