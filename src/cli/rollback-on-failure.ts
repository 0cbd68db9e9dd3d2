/**
 * `--on-failure rollback`: when a step of an upgrade fails after the hop began changing the mesh
 * (the old control plane removed, a deploy refused or unhealthy, the sentinel never deleted, a
 * restore failing, a failed in-place upgrade), the failed hop is rolled back at once, under the
 * upgrade's own Lease, by the `rollback` command's plan and steps (journaled in DIR/rollback, so
 * a kill resumes as a rollback). The run then ends with exit 1 naming the failed step and saying
 * that it rolled back; when it could not, it says why and what is left to do.
 */
import type { Deps } from '../deps.ts';
import { StepError, ToolError } from '../errors.ts';
import type { StepKind } from '../engine/types.ts';
import type { RunGuard } from '../engine/step-context.ts';
import { rollbackDir } from '../rollback/types.ts';
import { rollbackResumeCommand } from '../rollback/run.ts';
import type { RollbackArgs } from '../rollback/inputs.ts';
import {
  assertNoLoss,
  rollbackPreflight,
  rollbackSummary,
  runStartedRollback,
  type RollbackRunArgs,
} from './rollback.ts';
import { startRollbackFresh } from './rollback-start.ts';
import { runGates } from '../engine/gates.ts';
import { formatRollbackPlan } from './rollback-format.ts';

/** Steps whose failure leaves the mesh as it was: no rollback needed (the upgrade can be resumed). */
const changesNothing: readonly StepKind[] = ['backup', 'label-namespaces'];

/** Pure: does a failure of this step call for a rollback? */
export function rollbackCalledFor(stepId: string): boolean {
  const kind = stepId.replace(/^hop\d+\./, '') as StepKind;
  return /^hop\d+\./.test(stepId) && !changesNothing.includes(kind);
}

/**
 * Rolls the failed hop back, then throws the upgrade's failure (exit 1) saying so. Returns without
 * doing anything when no rollback is called for (the failure changed nothing, or the run was
 * interrupted): the caller rethrows the failure as it was.
 */
export async function rollBackAfterFailure(
  deps: Deps,
  failure: unknown,
  a: RollbackArgs &
    RollbackRunArgs & {
      signal: AbortSignal;
      /** The upgrade's: it holds the Lease, and a resumed rollback takes it over. */ runId: string;
      /** The upgrade's lease and cluster checks. */ guard: RunGuard;
    },
): Promise<void> {
  if (!(failure instanceof StepError) || a.signal.aborted || !rollbackCalledFor(failure.step)) return;
  const failed = failure.message;
  const notRolledBack = (why: string, hint: string) =>
    new StepError(
      failure.step,
      `${failed.replace(/^step "[^"]*" failed: /, '')}\nIt was NOT rolled back (--on-failure rollback): ${why}`,
      hint,
    );
  process.stderr.write(`\n${failed}\n--on-failure rollback: rolling the hop back.\n`);
  let start;
  try {
    start = await startRollbackFresh(deps, { ...a, allHops: false, force: false });
    if (a.format === 'text') process.stderr.write(formatRollbackPlan(start.plan, 'text'));
    assertNoLoss(start.plan);
    await runGates(deps, [rollbackPreflight(deps, start)], {
      output: a.format,
      emit: (l) => process.stdout.write(l + '\n'),
    });
  } catch (err) {
    throw notRolledBack(
      (err as Error).message,
      `${err instanceof ToolError && err.hint ? `${err.hint}\n` : ''}${failure.hint ?? ''}`,
    );
  }
  let result;
  try {
    result = await runStartedRollback(
      deps,
      start,
      { ...a, failedStep: failure.step },
      { runId: a.runId, signal: a.signal, guard: a.guard },
    );
  } catch (err) {
    throw new StepError(
      failure.step,
      `${failed.replace(/^step "[^"]*" failed: /, '')}\nThe rollback (--on-failure rollback) failed too: ${(err as Error).message}`,
      `${err instanceof ToolError && err.hint ? err.hint : `Continue the rollback with:\n  ${rollbackResumeCommand(a.from)}`}`,
    );
  }
  if (a.format === 'text') process.stdout.write(rollbackSummary(start.plan, result));
  const left = result.unresolved.reduce((n, u) => n + u.items.length, 0);
  throw new StepError(
    failure.step,
    `${failed.replace(/^step "[^"]*" failed: /, '')}\nRolled back (--on-failure rollback): NSM ${start.plan.to} runs again with the backed-up settings, CRDs and resources${left ? `, but ${left} item(s) are not as before (listed above)` : ', every workload on its sidecars'}.`,
    `Fix the cause, then upgrade again with a new --backup-dir. The rollback's journal is in ${rollbackDir(a.from)}.`,
  );
}

/** `--on-failure stop` (the default): the failure as it was, its hint naming the rollback command too when the hop changed the mesh. */
export function withRollbackHint(failure: unknown, from: string): unknown {
  if (!(failure instanceof StepError) || !rollbackCalledFor(failure.step)) return failure;
  return new StepError(
    failure.step,
    failure.message.replace(/^step "[^"]*" failed: /, ''),
    `${failure.hint ? `${failure.hint}\n` : ''}Or go back to the version before this hop:\n  kubectl nsm-upgrade rollback --from ${from}`,
  );
}
