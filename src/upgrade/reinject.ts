import type { Deps } from '../deps.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import { isRollingKind } from '../workloads/rollout-rules.ts';
import { planWaves, restartPatch } from '../workloads/restart-plan.ts';
import { workloadRefs } from '../workloads/rollout-wait.ts';
import { createRolloutWatcher } from '../workloads/rollout-watch.ts';
import { objectPath } from '../kube/paths.ts';
import { KubeApiError } from '../kube/client.ts';

/**
 * Re-rolls workloads that were injected before the upgrade but have no sidecar now. On the manual
 * OpenShift path every injected workload is re-rolled without the mesh (so the CSI sentinel can
 * finish); after the redeploy their pods carry no sidecar, so "behind" would not find them: the
 * list recorded at backup time says which workloads must come back into the mesh.
 */
export async function reinjectWorkloads(deps: Deps, workloads: readonly WorkloadRef[], opts: { timeoutMs: number; concurrency: number; progress: (m: string) => void }): Promise<{ restarted: string[]; unresolved: string[] }> {
  const restarted: string[] = [];
  const unresolved: string[] = [];
  const rolling = workloads.filter((w) => isRollingKind(w.kind));
  for (const w of workloads.filter((x) => !isRollingKind(x.kind))) {
    unresolved.push(`${w.kind} ${w.namespace}/${w.name}: had a sidecar before the upgrade and has no controller that re-creates its pods; re-create it to bring it back into the mesh`);
  }
  // The same shared list+watch per kind and namespace as `restart` waits on.
  const watcher = createRolloutWatcher(deps);
  try {
    for (const wave of planWaves(rolling, opts.concurrency)) {
      await Promise.all(wave.map(async (w) => {
        const kind = w.kind as keyof typeof workloadRefs;
        let generation: number | undefined;
        try {
          const patched = await deps.kube.request<{ metadata?: { generation?: number } }>({ method: 'PATCH', path: objectPath(workloadRefs[kind], w.name, w.namespace), contentType: 'application/strategic-merge-patch+json', body: restartPatch(deps.clock.now()) });
          generation = patched?.metadata?.generation;
        } catch (err) {
          if (err instanceof KubeApiError && err.status === 404) { opts.progress(`${w.kind} ${w.namespace}/${w.name} no longer exists`); return; }
          throw err;
        }
        const r = await watcher.wait(w, generation ?? 0, { timeoutMs: opts.timeoutMs, onMessage: (m) => opts.progress(`${w.kind} ${w.namespace}/${w.name}: ${m}`) });
        if (r.state === 'done') restarted.push(`${w.kind} ${w.namespace}/${w.name}`);
        else unresolved.push(`${w.kind} ${w.namespace}/${w.name}: ${r.message}`);
      }));
    }
  } finally {
    watcher.close();
  }
  return { restarted, unresolved };
}
