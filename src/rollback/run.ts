/**
 * Runs a rollback plan as a listr2 task list, like the upgrade's run.ts: the same executors
 * (upgrade/steps.ts, which holds the rollback's too), one journal record per finished step in
 * `<run dir>/rollback/journal.ndjson`, the steps a resumed rollback's journal holds skipped.
 * Errors name the step and the command that continues the rollback.
 */
import { Listr } from 'listr2';
import type { Deps } from '../deps.ts';
import { listOptions, runGates, type Gate } from '../upgrade/gates.ts';
import { StepError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { appendJournal, type ClusterIdentity } from '../upgrade/journal.ts';
import { clusterStateAfter } from '../upgrade/state-notes.ts';
import { task, type Ctx, type RunResult } from '../upgrade/run.ts';
import type { Step } from '../upgrade/types.ts';
import { rollbackSchemaVersion, type RollbackJournal } from './journal.ts';
import { rollbackDir, type LiveFacts, type RollbackOptions, type RollbackPlan } from './types.ts';

export interface RollbackRunOptions {
  timeoutMs: number;
  concurrency: number;
  restart: 'behind' | 'all' | 'none';
  deleteBarePods: boolean;
  output: 'text' | 'json';
  /** What the plan was built from that the run directory does not hold (journaled with it). */
  start: { options: RollbackOptions; live: LiveFacts; cluster: ClusterIdentity; failedStep?: string | undefined };
  runId: string;
  resume?: RollbackJournal | undefined;
  emit: (line: string) => void;
  signal: AbortSignal;
  /** Tasks shown before the steps (confirmation, the Lease); the journal is written once they pass. */
  before?: readonly Gate[];
}

/** The command that continues a rollback of the run in `from`. */
export function rollbackResumeCommand(from: string): string {
  return `kubectl nsm-upgrade rollback --from ${from} --resume`;
}

export async function runRollback(deps: Deps, plan: RollbackPlan, opts: RollbackRunOptions): Promise<RunResult> {
  const dir = rollbackDir(plan.rollback.source);
  const now = () => new Date(deps.clock.now()).toISOString();
  await runGates(deps, opts.before ?? [], opts);
  if (opts.resume) {
    await appendJournal(deps.fs, dir, { type: 'resume', runId: opts.runId, at: now(), previousRunId: opts.resume.runId });
  } else {
    await appendJournal(deps.fs, dir, { type: 'rollback', schema: rollbackSchemaVersion, runId: opts.runId, at: now(), toolVersion, upgradeRunId: plan.rollback.upgradeRunId, ...opts.start, plan });
  }
  const done = opts.resume?.done ?? new Set<string>();
  const steps = plan.hops.flatMap((h) => h.steps);
  const result: RunResult = { runId: opts.runId, unresolved: [], stepsRun: [], stepsSkipped: steps.filter((s) => done.has(s.id)).map((s) => s.id) };
  const journalData = new Map(opts.resume?.data ?? []);
  let running: Step | undefined;
  const list = new Listr<Ctx>(steps.map((s) => {
    const t = task(deps, plan, s, { ...opts, backupDir: dir }, opts.runId, done, journalData);
    return { ...t, task: (c, l) => { running = s; return t.task(c, l); } };
  }), listOptions(opts));
  try {
    await list.run({ result });
  } catch (err) {
    const e = err instanceof StepError ? err : new StepError(running?.id ?? steps[0]?.id ?? 'rollback', (err as Error).message);
    const lastDone = [...steps].reverse().find((s) => done.has(s.id) || result.stepsRun.includes(s.id));
    const state = `Cluster state: ${clusterStateAfter(lastDone?.kind)}${lastDone ? ` (last finished rollback step: ${lastDone.id})` : ''}`;
    throw new StepError(e.step, e.message.replace(/^step "[^"]*" failed: /, ''), `${e.hint ? e.hint + '\n' : ''}${state}\nEverything up to the failed step is done and journaled in ${dir}. Fix the cause, then continue the rollback with:\n  ${rollbackResumeCommand(plan.rollback.source)}`);
  }
  await appendJournal(deps.fs, dir, { type: 'finished', runId: opts.runId, at: now(), converged: result.unresolved.length === 0 });
  return result;
}
