import { mapLimit } from '../concurrency.ts';
import type { Deps } from '../deps.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import { isRollingKind } from '../workloads/rollout-rules.ts';
import { rolloutRestart } from '../workloads/restart.ts';
import { createRolloutWatcher } from '../workloads/rollout-watch.ts';
import { KubeApiError } from '../kube/client.ts';

/**
 * Re-rolls workloads that were injected before the upgrade but have no sidecar now. On the manual
 * OpenShift path every injected workload is re-rolled without the mesh (so the CSI sentinel can
 * finish); after the redeploy their pods carry no sidecar, so "behind" would not find them: the
 * list recorded at backup time says which workloads must come back into the mesh. The re-roll is
 * `restart`'s own (rolloutRestart on one shared watcher), at most `concurrency` at once, the next
 * starting as soon as one is done. A workload deleted meanwhile is reported and skipped; any other
 * API error stops the step (no further workload is started).
 */
export async function reinjectWorkloads(deps: Deps, workloads: readonly WorkloadRef[], opts: { timeoutMs: number; concurrency: number; progress: (m: string) => void; signal?: AbortSignal }): Promise<{ restarted: string[]; unresolved: string[] }> {
  const restarted: string[] = [];
  const unresolved: string[] = [];
  const rolling = workloads.filter((w) => isRollingKind(w.kind));
  for (const w of workloads.filter((x) => !isRollingKind(x.kind))) {
    unresolved.push(`${w.kind} ${w.namespace}/${w.name}: had a sidecar before the upgrade and has no controller that re-creates its pods; re-create it to bring it back into the mesh`);
  }
  // The same shared list+watch per kind and namespace as `restart` waits on.
  const watcher = createRolloutWatcher(deps);
  // Ctrl-C: no further workload starts, and the waits in flight end (the watcher closes).
  const onAbort = () => watcher.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await mapLimit(rolling, opts.concurrency, async (w) => {
      const name = `${w.kind} ${w.namespace}/${w.name}`;
      if (opts.signal?.aborted) { unresolved.push(`${name}: interrupted before it was re-rolled`); return; }
      try {
        const r = await rolloutRestart(deps, watcher, w, { timeoutMs: opts.timeoutMs, onMessage: (m) => opts.progress(`${name}: ${m}`) });
        if (r.state === 'done') restarted.push(name);
        else unresolved.push(`${name}: ${r.message}`);
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) { opts.progress(`${name} no longer exists`); return; }
        throw err;
      }
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watcher.close();
  }
  return { restarted, unresolved };
}
