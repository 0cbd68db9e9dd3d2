/**
 * Runs a rollback plan as a listr2 task list, like the upgrade's run.ts: the same executors
 * (upgrade/steps.ts, which holds the rollback's too), one journal record per finished step in
 * `<run dir>/rollback/journal.ndjson`, the steps a resumed rollback's journal holds skipped.
 * Errors name the step and the command that continues the rollback.
 */
import type { WalkSettings } from '../engine/option-groups.ts';
import type { Deps } from '../deps.ts';
import type { Gate } from '../engine/gates.ts';
import type { RunGuard } from '../engine/step-context.ts';
import { toolVersion } from '../version.ts';
import type { ClusterIdentity } from '../engine/journal.ts';
import { walkSteps, type RunResult } from '../engine/walk.ts';
import { digestInputs, planBinaries } from '../engine/binary-digests.ts';
import { rollbackSchemaVersion, type RollbackJournal } from './journal.ts';
import { rollbackDir, type LiveFacts, type RollbackOptions, type RollbackPlan } from './types.ts';

export interface RollbackRunOptions extends WalkSettings {
  output: 'text' | 'json';
  /** What the plan was built from that the run directory does not hold (journaled with it). */
  start: { options: RollbackOptions; live: LiveFacts; cluster: ClusterIdentity; failedStep?: string | undefined };
  runId: string;
  resume?: RollbackJournal | undefined;
  emit: (line: string) => void;
  signal: AbortSignal;
  /** Tasks shown before the steps (confirmation, the Lease); the journal is written once they pass. */
  before?: readonly Gate[];
  /** The lease and the cluster, checked before each step and command that changes the cluster. */
  guard: RunGuard;
}

/** The command that continues a rollback of the run in `from`. */
export function rollbackResumeCommand(from: string): string {
  return `kubectl nsm-upgrade rollback --from ${from} --resume`;
}

export async function runRollback(deps: Deps, plan: RollbackPlan, opts: RollbackRunOptions): Promise<RunResult> {
  const dir = rollbackDir(plan.rollback.source);
  const binaries = opts.resume ? opts.resume.binaries : await digestInputs(deps.fs, opts.start.options, planBinaries(plan));
  const first = { type: 'rollback', schema: rollbackSchemaVersion, runId: opts.runId, at: new Date(deps.clock.now()).toISOString(), toolVersion, upgradeRunId: plan.rollback.upgradeRunId, ...opts.start, plan, binaries };
  return walkSteps(deps, plan, { ...opts, backupDir: dir }, { dir, first, resume: rollbackResumeCommand(plan.rollback.source), noun: 'rollback step' });
}
