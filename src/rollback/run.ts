/**
 * Runs a rollback plan as a listr2 task list, like the upgrade's run.ts: the same executors
 * (upgrade/steps.ts, which holds the rollback's too), one journal record per finished step in
 * `<run dir>/rollback/journal.ndjson`, the steps a resumed rollback's journal holds skipped.
 * Errors name the step and the command that continues the rollback.
 */
import type { WalkSettings } from '../engine/option-groups.ts';
import type { Deps } from '../deps.ts';
import { toolVersion } from '../version.ts';
import type { ClusterIdentity } from '../engine/journal.ts';
import { walkSteps, type RunResult, type WalkWiring } from '../engine/walk.ts';
import { digestInputs, planBinaries } from '../engine/binary-digests.ts';
import { rollbackSchemaVersion, type RollbackJournal } from './journal.ts';
import { rollbackDir, type LiveFacts, type RollbackOptions, type RollbackPlan } from './types.ts';

export interface RollbackRunOptions extends WalkSettings, WalkWiring {
  /** What the plan was built from that the run directory does not hold (journaled with it). */
  start: { options: RollbackOptions; live: LiveFacts; cluster: ClusterIdentity; failedStep?: string | undefined };
  resume?: RollbackJournal | undefined;
}

/** The command that continues a rollback of the run in `from`. */
export function rollbackResumeCommand(from: string): string {
  return `kubectl nsm-upgrade rollback --from ${from} --resume`;
}

export async function runRollback(deps: Deps, plan: RollbackPlan, opts: RollbackRunOptions): Promise<RunResult> {
  const dir = rollbackDir(plan.rollback.source);
  const binaries = opts.resume
    ? opts.resume.binaries
    : await digestInputs(deps.fs, opts.start.options, planBinaries(plan));
  const first = {
    type: 'rollback',
    schema: rollbackSchemaVersion,
    runId: opts.runId,
    at: new Date(deps.clock.now()).toISOString(),
    toolVersion,
    upgradeRunId: plan.rollback.upgradeRunId,
    ...opts.start,
    plan,
    binaries,
  };
  return walkSteps(
    deps,
    plan,
    { ...opts, backupDir: dir },
    { dir, first, resume: rollbackResumeCommand(plan.rollback.source), noun: 'rollback step' },
  );
}
