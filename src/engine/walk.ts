import { Listr, type ListrTask } from 'listr2';
import type { WalkSettings } from './option-groups.ts';
import { eventEmitter, listOptions, runGates, type Gate } from './gates.ts';
import type { Deps } from '../deps.ts';
import type { Install, Plan, PlanOptions, Step } from './types.ts';
import { appendJournal, journalSchemaVersion, type ClusterIdentity, type JournalState } from './journal.ts';

/** A journal record of any walk (the upgrade's, or a rollback's: rollback/journal.ts). */
type AnyRecord = Parameters<typeof appendJournal>[2];
import { executeStep, type StepContext } from './executors.ts';
import type { RunGuard } from './step-context.ts';
import { beforeChange } from './step-commands.ts';
import { LeaseLostError } from './lease.ts';
import { clusterStateAfter } from './state-notes.ts';
import { StepError, ToolError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { scrub } from '../secret.ts';
import { digestInputs, planBinaries } from './binary-digests.ts';
import { windowReport, type RunWindow } from './window.ts';
import { windowObserver, type WindowObserver } from './window-observe.ts';

/** What connects a walk to its command: its id, where its output goes, its signal, the gates before it, its guard. */
export interface WalkWiring {
  /** text: a task list (listr2; plain lines when stdout is not a terminal); json: one event per line. */
  output: 'text' | 'json';
  /** This run's id (the lease holder carries it too). */
  runId: string;
  /** Emits a JSON event line (json output): stdout in the CLI. */
  emit: (line: string) => void;
  signal: AbortSignal;
  /** Tasks shown before the steps (confirmation, the Lease); the journal is written once they pass. */
  before?: readonly Gate[];
  /** The lease and the cluster, checked before each step and command that changes the cluster. */
  guard: RunGuard;
}

export interface RunOptions extends WalkSettings, WalkWiring {
  backupDir: string;
  /** What the plan was built from, journaled with it (secrets redacted) so --resume can build it again. */
  start: { install: Install; inputs: PlanOptions; cluster: ClusterIdentity };
  /** The journal of the run being resumed. */
  resume?: JournalState | undefined;
}

export interface RunResult {
  runId: string;
  unresolved: { step: string; items: string[] }[];
  stepsRun: string[];
  stepsSkipped: string[];
  /** The maintenance window, across resumes (window.ts); the summary shows it, -o json ends with it (flow.ts). */
  window?: RunWindow | undefined;
}

export type Ctx = { result: RunResult };

/** The command that continues this run. */
export function resumeCommand(dir: string): string {
  return `kubectl nsm-upgrade --resume ${dir}`;
}

/** One step as a task: run by its executor, journaled in `opts.backupDir` when done. Also the rollback's (rollback/run.ts). */
export type StepTaskOptions = Pick<
  RunOptions,
  | 'backupDir'
  | 'timeoutMs'
  | 'concurrency'
  | 'restart'
  | 'deleteBarePods'
  | 'maxFailures'
  | 'first'
  | 'output'
  | 'emit'
  | 'signal'
  | 'guard'
>;
export function task(
  deps: Deps,
  plan: Plan,
  step: Step,
  opts: StepTaskOptions,
  runId: string,
  done: ReadonlySet<string>,
  journalData: Map<string, Record<string, unknown>>,
  window?: WindowObserver,
): ListrTask<Ctx> {
  const hop = plan.hops.find((h) => h.steps.includes(step))!;
  const event = eventEmitter(deps, opts, step.id);
  return {
    title: `[${step.id}] ${step.title}`,
    skip: () => (done.has(step.id) ? 'done before (journal)' : false),
    task: async (ctx, t) => {
      const why: unknown = opts.signal.reason;
      if (opts.signal.aborted)
        throw why instanceof LeaseLostError ? why : new StepError(step.id, 'interrupted before this step started');
      event({ event: 'start', title: step.title });
      const sctx: StepContext = {
        deps,
        plan,
        hop,
        step,
        journalData,
        timeoutMs: opts.timeoutMs,
        concurrency: opts.concurrency,
        restart: opts.restart,
        deleteBarePods: opts.deleteBarePods,
        maxFailures: opts.maxFailures,
        first: opts.first,
        runId,
        signal: opts.signal,
        guard: opts.guard,
        progress: (raw) => {
          const m = scrub(raw);
          t.output = m;
          event({ event: 'progress', message: m });
        },
      };
      try {
        // A step that changes the cluster starts only while the run still holds its lease (fencing).
        if (step.writes) await beforeChange(sctx);
        const out = window ? await window.observe(sctx, executeStep) : await executeStep(sctx);
        if (out.unresolved?.length) ctx.result.unresolved.push({ step: step.id, items: out.unresolved });
        if (out.data) journalData.set(step.id, out.data);
        await appendJournal(deps.fs, opts.backupDir, {
          type: 'step',
          runId,
          at: new Date(deps.clock.now()).toISOString(),
          step: step.id,
          status: 'done',
          ...(out.data ? { data: out.data } : {}),
        });
        ctx.result.stepsRun.push(step.id);
        event({ event: 'done', skipped: out.skipped, unresolved: out.unresolved ?? [], data: out.data });
        if (out.skipped) t.title = `[${step.id}] ${step.title} (${out.skipped})`;
      } catch (err) {
        event({ event: 'failed', error: scrub((err as Error).message) });
        // Helpers deep in a step name what they waited for ("helm-busy", "deploy"); the user needs the plan's step id.
        if (err instanceof StepError)
          throw new StepError(step.id, err.message.replace(/^step "[^"]*" failed: /, ''), err.hint);
        throw err instanceof ToolError ? err : new StepError(step.id, (err as Error).message);
      }
    },
  };
}

/** How a walk of steps journals and says how to continue (the upgrade's run, or a rollback). */
export interface Walk {
  /** Where journal.ndjson is. */
  dir: string;
  /** The first record of a new journal (a resume appends a resume record instead). */
  first: AnyRecord;
  /** The command that continues the walk, shown when a step fails. */
  resume: string;
  /** "step" or "rollback step", in the failure's cluster-state line. */
  noun: string;
}

/**
 * Walks the plan's steps in order as a listr2 task list, after the gates. Each finished step is
 * journaled in `<walk.dir>/journal.ndjson`; a resumed run skips the steps its journal holds. Errors
 * name the step that was running and the command to resume.
 */
/** What a walk needs of the run's options (a rollback has its own start record and journal). */
export type WalkOptions = Omit<RunOptions, 'start' | 'resume'> & {
  resume?: Pick<JournalState, 'runId' | 'done' | 'data' | 'marks'> | undefined;
};

export async function walkSteps(deps: Deps, plan: Plan, opts: WalkOptions, walk: Walk): Promise<RunResult> {
  const runId = opts.runId;
  const now = () => new Date(deps.clock.now()).toISOString();
  await runGates(deps, opts.before ?? [], opts);
  await appendJournal(
    deps.fs,
    walk.dir,
    opts.resume ? { type: 'resume', runId, at: now(), previousRunId: opts.resume.runId } : walk.first,
  );
  const done = opts.resume?.done ?? new Set<string>();
  const steps = plan.hops.flatMap((h) => h.steps);
  const result: RunResult = {
    runId,
    unresolved: [],
    stepsRun: [],
    stepsSkipped: steps.filter((s) => done.has(s.id)).map((s) => s.id),
  };
  const journalData = new Map(opts.resume?.data ?? []);
  // Each mark of the maintenance window is journaled as it is taken; a resume starts from the journaled ones.
  const window = windowObserver(
    (m) => appendJournal(deps.fs, walk.dir, { type: 'window', runId, at: now(), ...m }),
    opts.resume?.marks,
  );
  let running: Step | undefined;
  const list = new Listr<Ctx>(
    steps.map((s) => {
      const t = task(deps, plan, s, { ...opts, backupDir: walk.dir }, runId, done, journalData, window);
      return {
        ...t,
        task: (c, l) => {
          running = s;
          return t.task(c, l);
        },
      };
    }),
    listOptions(opts),
  );
  try {
    await list.run({ result });
  } catch (err) {
    // Every error names a step of the plan (the one that was running), never an internal name.
    const e =
      err instanceof StepError ? err : new StepError(running?.id ?? steps[0]?.id ?? 'hop1', (err as Error).message);
    const lastDone = [...steps].reverse().find((s) => done.has(s.id) || result.stepsRun.includes(s.id));
    const state = `Cluster state: ${clusterStateAfter(lastDone?.kind)}${lastDone ? ` (last finished ${walk.noun}: ${lastDone.id})` : ''}`;
    throw new StepError(
      e.step,
      e.message.replace(/^step "[^"]*" failed: /, ''),
      `${e.hint ? e.hint + '\n' : ''}${state}\nEverything up to the failed step is done and journaled in ${walk.dir}. Fix the cause, then continue with:\n  ${walk.resume}`,
    );
  }
  await appendJournal(deps.fs, walk.dir, {
    type: 'finished',
    runId,
    at: now(),
    converged: result.unresolved.length === 0,
  });
  result.window = windowReport(plan, window.marks, deps.clock.now());
  return result;
}

/** The upgrade's walk: journaled in the backup directory (with the hashes of its binaries and chart), continued with --resume. */
export async function runPlan(deps: Deps, plan: Plan, opts: RunOptions): Promise<RunResult> {
  const binaries = opts.resume
    ? opts.resume.binaries
    : await digestInputs(deps.fs, opts.start.inputs, planBinaries(plan));
  const first: AnyRecord = {
    type: 'run',
    schema: journalSchemaVersion,
    runId: opts.runId,
    at: new Date(deps.clock.now()).toISOString(),
    toolVersion,
    ...opts.start,
    plan,
    binaries,
  };
  return walkSteps(deps, plan, opts, {
    dir: opts.backupDir,
    first,
    resume: resumeCommand(opts.backupDir),
    noun: 'step',
  });
}
