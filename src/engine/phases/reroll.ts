/**
 * The re-roll of a run's step (the upgrade's restart and restart-unmeshed, the rollback's reroll):
 * `restart`'s own re-roll, with the run's slow start and failure gate, recorded under the run's id
 * so `kubectl nsm-upgrade restart` can continue it and `status` can show it.
 */
import { createRecorder, restartWorkloads, rerollUnresolved, type RerollRecord, type RestartResult } from '../../workloads/index.ts';
import type { RestartMode } from '../../workloads/restart-plan.ts';
import type { StepContext } from '../step-context.ts';

/** What continues a re-roll a run's step stopped short (the record says what it brought over). */
export function rerollContinueCommand(ctx: Pick<StepContext, 'plan'>, mode: RestartMode): string {
  return ['kubectl nsm-upgrade restart', ...(ctx.plan.namespace !== 'nginx-mesh' ? ['--mesh-namespace', ctx.plan.namespace] : []), ...(mode === 'all' ? ['--restart', 'all'] : [])].join(' ');
}

export async function rerollForStep(ctx: StepContext, opts: { mode: RestartMode; targetVersion: string; operation: string; record?: boolean }): Promise<{ result: RestartResult; unresolved: string[] }> {
  const { deps } = ctx;
  const record: RerollRecord = {
    runId: ctx.runId ?? 'unknown', operation: opts.operation, targetVersion: opts.targetVersion, mode: opts.mode,
    startedAt: new Date(deps.clock.now()).toISOString(), updatedAt: '', state: 'running', maxFailures: ctx.maxFailures ?? 1, workloads: {},
  };
  const result = await restartWorkloads(deps, {
    targetVersion: opts.targetVersion, mode: opts.mode, concurrency: ctx.concurrency, maxFailures: ctx.maxFailures, first: ctx.first,
    timeoutMs: ctx.timeoutMs, deleteBarePods: ctx.deleteBarePods, signal: ctx.signal,
    ...(opts.record === false ? {} : { recorder: createRecorder(deps, ctx.plan.namespace, record, { warn: (m) => deps.log.warn(m) }) }),
    onProgress: (pr) => ctx.progress(`${pr.kind} ${pr.namespace}/${pr.name}: ${pr.message}`),
  });
  return { result, unresolved: rerollUnresolved(result, rerollContinueCommand(ctx, opts.mode)) };
}
