/**
 * The one executor table: every step kind, from its phase (engine/phases/*.ts). The walk
 * (walk.ts) runs each step of a plan, the upgrade's or a rollback's, with the executor of its kind.
 */
import type { StepKind } from './types.ts';
import type { StepContext, StepOutcome } from './step-context.ts';
import type { Executor, Executors } from './step.ts';
import { backupExecutors } from './phases/backup.ts';
import { controlPlaneExecutors } from './phases/control-plane.ts';
import { crdExecutors } from './phases/crds.ts';
import { leftoverExecutors } from './phases/leftovers.ts';
import { namespaceExecutors } from './phases/namespaces.ts';
import { openshiftExecutors } from './phases/openshift.ts';
import { restartExecutors } from './phases/restart.ts';
import { restoreExecutors } from './phases/restore.ts';
import { verifyExecutors } from './phases/verify.ts';

export type { StepContext, StepOutcome };

const executors: Executors<StepKind> = {
  ...backupExecutors,
  ...leftoverExecutors,
  ...namespaceExecutors,
  ...crdExecutors,
  ...controlPlaneExecutors,
  ...openshiftExecutors,
  ...restoreExecutors,
  ...restartExecutors,
  ...verifyExecutors,
};

/** Runs a step with the executor of its kind. */
export function executeStep(ctx: StepContext): Promise<StepOutcome> {
  const run = executors[ctx.step.kind] as Executor<StepKind>;
  return run(ctx);
}
