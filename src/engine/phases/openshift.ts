/**
 * Phase: the OpenShift CSI sentinel. On OpenShift a removal leaves Job csi-driver-sentinel, which
 * finishes (and is deleted) only once no pod keeps a sidecar: every injected workload is restarted
 * out of the mesh, then the Job's deletion is waited for, before the redeploy (FACTS.md).
 */
import { StepError } from '../../errors.ts';
import { sentinelJob, waitForSentinelGone } from '../../controlplane/sentinel.ts';
import { step, type Executors } from '../step.ts';
import { restartForStep } from './restart.ts';

/** The two steps between an OpenShift removal and the redeploy. */
export function openshiftSentinelSteps(n: number, namespace: string) {
  return [
    step(
      n,
      'restart-unmeshed',
      'Restart injected workloads so no pod keeps a sidecar (the CSI sentinel waits for that)',
      { destructive: true },
      [],
      { reason: 'openshift-sentinel' as const },
    ),
    step(n, 'wait-sentinel', `Wait until Job ${sentinelJob} in ${namespace} is deleted`, { writes: false }, [], {
      namespace,
      job: sentinelJob,
    }),
  ];
}

export const openshiftExecutors: Executors<'restart-unmeshed' | 'wait-sentinel'> = {
  async 'restart-unmeshed'(ctx) {
    // Not recorded: this restart takes the workloads out of a removed mesh, `restart` cannot continue it.
    const { result: r, unresolved } = await restartForStep(ctx, {
      mode: 'all',
      targetVersion: '(none: mesh removed)',
      record: false,
    });
    // Every workload must be out of the mesh before the CSI sentinel can finish: a stopped restart stops the run here.
    if (r.stoppedAtGate)
      throw new StepError(
        ctx.step.id,
        `the restart out of the mesh stopped at the failure gate: ${unresolved.join('; ')}`,
        'Fix the cause, then continue the run with --resume (the mesh is removed; the backup holds its resources).',
      );
    return { data: { restarted: r.restarted.length }, unresolved };
  },
  async 'wait-sentinel'(ctx) {
    const r = await waitForSentinelGone(ctx.deps, {
      namespace: ctx.step.params.namespace,
      timeoutMs: ctx.timeoutMs,
      onProgress: ctx.progress,
      signal: ctx.signal,
    });
    return {
      data: r,
      skipped: r.existed ? undefined : `no ${sentinelJob} Job: none was created at removal, or it has already finished`,
    };
  },
};
