/**
 * Phase: restart the injected workloads onto the hop's sidecars: `restart`'s own restart, with the
 * run's slow start and failure gate, recorded under the run's id so `kubectl nsm-upgrade restart`
 * can continue it and `status` can show it. After an OpenShift removal (restart-unmeshed), the
 * workloads that had a sidecar are first restarted back into the mesh (restart-into-mesh.ts).
 */
import { StepError } from '../../errors.ts';
import {
  createRecorder,
  restartWorkloads,
  restartUnresolved,
  type RestartRecord,
  type RestartResult,
} from '../../workloads/index.ts';
import type { WorkloadRef } from '../../workloads/owners.ts';
import type { RestartMode } from '../../workloads/restart-plan.ts';
import { hopStep, outputOf, type StepContext } from '../step-context.ts';
import { step, type Executors } from '../step.ts';
import { restartIntoMesh } from './restart-into-mesh.ts';

export function restartStep(n: number, p: { to: string; injected?: WorkloadRef[] }) {
  return step(n, 'restart', `Restart injected workloads onto NSM ${p.to} sidecars`, { destructive: true }, [], {
    targetVersion: p.to,
    ...(p.injected ? { injected: p.injected } : {}),
  });
}

/** What continues a restart a run's step stopped short (the record says what it brought over). */
export function restartContinueCommand(ctx: Pick<StepContext, 'plan'>, mode: RestartMode): string {
  return [
    'kubectl nsm-upgrade restart',
    ...(ctx.plan.namespace !== 'nginx-mesh' ? ['--mesh-namespace', ctx.plan.namespace] : []),
    ...(mode === 'all' ? ['--restart', 'all'] : []),
  ].join(' ');
}

/** The workloads that had a sidecar before the hop: the step names them (a rollback), else the hop's backup recorded them. */
export function injectedBefore(ctx: StepContext, named?: readonly WorkloadRef[]): readonly WorkloadRef[] {
  return named ?? outputOf(ctx, hopStep(ctx, 'backup'))?.injected ?? [];
}

/** `restart`'s restart, from a run's step: the run's gate, canary and concurrency; recorded unless `record: false`. */
export async function restartForStep(
  ctx: StepContext,
  opts: { mode: RestartMode; targetVersion: string; record?: boolean },
): Promise<{ result: RestartResult; unresolved: string[] }> {
  const { deps } = ctx;
  const record: RestartRecord = {
    runId: ctx.runId ?? 'unknown',
    operation: 'rollback' in ctx.plan ? 'rollback' : 'upgrade',
    targetVersion: opts.targetVersion,
    mode: opts.mode,
    startedAt: new Date(deps.clock.now()).toISOString(),
    updatedAt: '',
    state: 'running',
    maxFailures: ctx.maxFailures ?? 1,
    workloads: {},
  };
  const result = await restartWorkloads(deps, {
    targetVersion: opts.targetVersion,
    mode: opts.mode,
    concurrency: ctx.concurrency,
    maxFailures: ctx.maxFailures,
    first: ctx.first,
    timeoutMs: ctx.timeoutMs,
    deleteBarePods: ctx.deleteBarePods,
    signal: ctx.signal,
    ...(opts.record === false
      ? {}
      : { recorder: createRecorder(deps, ctx.plan.namespace, record, { warn: (m) => deps.log.warn(m) }) }),
    onProgress: (pr) => ctx.progress(`${pr.kind} ${pr.namespace}/${pr.name}: ${pr.message}`),
  });
  if (result.interrupted)
    throw new StepError(ctx.step.id, `interrupted: ${result.notStarted.length} workload(s) not restarted yet`);
  return { result, unresolved: restartUnresolved(result, restartContinueCommand(ctx, opts.mode)) };
}

export const restartExecutors: Executors<'restart'> = {
  async restart(ctx) {
    if (ctx.restart === 'none') return { skipped: '--restart none' };
    const unresolved: string[] = [];
    let restartedIntoMesh: number | undefined;
    if (hopStep(ctx, 'restart-unmeshed')) {
      // Every injected workload was restarted out of the mesh: bring back the ones that had a sidecar before.
      const r = await restartIntoMesh(ctx.deps, injectedBefore(ctx, ctx.step.params.injected), {
        timeoutMs: ctx.timeoutMs,
        concurrency: ctx.concurrency,
        maxFailures: ctx.maxFailures,
        progress: ctx.progress,
        signal: ctx.signal,
      });
      ctx.progress(`restarted ${r.restarted.length} workloads back into the mesh`);
      restartedIntoMesh = r.restarted.length;
      unresolved.push(...r.unresolved);
    }
    const { result: r, unresolved: left } = await restartForStep(ctx, {
      mode: ctx.restart,
      targetVersion: ctx.step.params.targetVersion,
    });
    unresolved.push(...left);
    // Stopped at the failure gate: the control plane is done; the run ends not converged (exit 4), naming each failure and how to continue.
    return {
      data: {
        restarted: r.restarted.length,
        converged: r.final.converged,
        byVersion: r.final.byVersion,
        ...(restartedIntoMesh !== undefined ? { restartedIntoMesh } : {}),
        ...(r.stoppedAtGate ? { stoppedAtGate: true as const, notStarted: r.notStarted.length } : {}),
      },
      unresolved,
    };
  },
};
