/**
 * The fleet's run: wave after wave, each cluster's upgrade as its own run of this tool (a child
 * process: `kubectl nsm-upgrade --context C --to V --backup-dir FLEETDIR/C --yes -o json`, or
 * `--resume FLEETDIR/C`), so every cluster gets exactly the single-cluster run, with its own
 * preflight, Lease, journal and resume. Its JSON events drive the cluster's task group (a live
 * list with a group per cluster; `-o json`: the same events, each with its context). A cluster
 * passes when its run exits 0 and the fleet then finds it converged on the target; a wave starts
 * only when every cluster of the one before passed; after the canary's wave, `--soak` waits and
 * checks the canary again. A failure stops the fleet there: clusters not started are not touched,
 * and `<fleet dir>/fleet.json` says where each cluster is.
 */
import path from 'node:path';
import { Listr, type ListrTask } from 'listr2';
import type { FleetDeps } from '../deps.ts';
import { listOptions, type ListOutput } from '../engine/gates.ts';
import { scrub } from '../secret.ts';
import { StepTracker, parseEventLine } from './child-events.ts';
import { clusterBackupDir, clusterRunArgs, type ClusterRunSettings } from './cluster-args.ts';
import { readRollbackJournal } from '../rollback/journal.ts';
import { groupTitle } from './format.ts';
import { writeFleetState, type ClusterRecord, type FleetState } from './state.ts';
import { checkConvergence, type ClusterCheck } from './survey.ts';
import type { ClusterSurvey, FleetCluster, FleetEventBody, FleetPlan, Wave } from './types.ts';
import { eventLine, type RunEvent } from '../engine/events.ts';
import { appendPrivateFile, ensurePrivateDir } from '../backup/private-files.ts';

export interface FleetRunInput extends ListOutput {
  fleetDir: string;
  plan: FleetPlan;
  /** Updated and written to fleet.json as clusters start and end. */
  state: FleetState;
  verbose: number;
  /** Aborted by the first Ctrl-C: no cluster or wave starts any more, the soak ends. */
  signal: AbortSignal;
  /** The cluster read again after its run and after the soak (checkCluster). */
  check: (c: FleetCluster) => Promise<ClusterCheck>;
}

/** The check after each cluster's run and after the soak: the cluster read again (its own API client). */
export function checkCluster(fd: Pick<FleetDeps, 'cluster'>, to: string): (c: FleetCluster) => Promise<ClusterCheck> {
  return (c) => fd.cluster(c).then((deps) => checkConvergence(deps, c, to)).catch((err: unknown) => ({ problem: `cannot read the cluster: ${(err as Error).message}` }));
}

export interface FleetResult {
  /** Why the fleet stopped before its last wave (a cluster, the soak, an interrupt); undefined: it went through. */
  stopped?: { context?: string | undefined; why: string; exitCode: number } | undefined;
}

/** A cluster's run event as the fleet relays it: its context right after its time. */
function relayed(e: RunEvent, context: string): string {
  const { at, ...rest } = e;
  return eventLine({ at, context, ...rest } as RunEvent);
}

/** Fleet.json writes, one at a time (each writes the whole record as it is then). */
function stateWriter(fd: FleetDeps, dir: string, state: FleetState) {
  let queue: Promise<void> = Promise.resolve();
  return (context: string, record: Omit<ClusterRecord, 'at'>): Promise<void> => {
    state.clusters[context] = { ...record, at: new Date(fd.clock.now()).toISOString() };
    const snapshot = JSON.parse(JSON.stringify(state)) as FleetState;
    queue = queue.then(() => writeFleetState(fd.fs, dir, snapshot));
    return queue;
  };
}

/** The first "error: ..." line of a run's stderr (its top-level error), else its last line. */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => l.startsWith('error: ')) ?? lines.at(-1) ?? '').replace(/^error: /, '');
}

/** A message on one line (a command's output may span several). */
function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

/** Appends to a cluster's log in the fleet directory, never through a symlink (private-files.ts). */
async function appendLog(fd: FleetDeps, file: string, text: string): Promise<void> {
  await ensurePrivateDir(fd.fs, path.dirname(file), 'the fleet\'s log directory');
  await appendPrivateFile(fd.fs, file, text, { sync: false });
}

interface ClusterRun {
  context: string;
  /** Settles when the run ended and the fleet checked the cluster: the cluster's record by then. */
  finished: Promise<Omit<ClusterRecord, 'at'>>;
}

export async function runFleet(fd: FleetDeps, input: FleetRunInput): Promise<FleetResult> {
  const { plan, state, fleetDir } = input;
  const spec = state.spec;
  const byContext = new Map(spec.clusters.map((c) => [c.context, c]));
  const surveys = new Map(plan.clusters.map((s) => [s.context, s]));
  const record = stateWriter(fd, fleetDir, state);
  const now = () => new Date(fd.clock.now()).toISOString();
  const event = (e: FleetEventBody) => { if (input.output === 'json') input.emit(scrub(JSON.stringify({ at: now(), ...e }))); };
  const settings: ClusterRunSettings = { to: spec.to, fleetDir, timeout: state.settings.timeout, labelNamespaces: state.settings.labelNamespaces, onFailure: state.settings.onFailure, verbose: input.verbose };

  /** Runs one cluster's upgrade, following its events, then checks the cluster. Never throws. */
  function startCluster(c: FleetCluster, s: ClusterSurvey, tracker: StepTracker): ClusterRun {
    const resume = s.action === 'resume';
    const args = clusterRunArgs(c, settings, resume);
    const log = path.join(fleetDir, 'logs', `${c.dir}.log`);
    let failedStep: { step: string; error: string } | undefined;
    let plain = '';
    const finished = (async (): Promise<Omit<ClusterRecord, 'at'>> => {
      const from = state.clusters[c.context]?.from ?? s.from;
      if (s.action !== 'up-to-date') {
        await appendLog(fd, log, `--- ${now()} ${resume ? 'resume' : 'run'}: kubectl nsm-upgrade ${args.join(' ')}\n`);
        await record(c.context, { status: 'running', from });
        event({ context: c.context, step: 'cluster', event: 'start', resume, args });
        const res = await fd.exec.run({ bin: fd.self[0]!, args: [...fd.self.slice(1), ...args], writes: true }, {
          onStart: (pid) => { void record(c.context, { status: 'running', from, pid }); },
          onLine: (line, stream) => {
            if (stream === 'stderr') { void appendLog(fd, log, `${line}\n`).catch(() => undefined); return; }
            const e = parseEventLine(line);
            if (!e) { plain = line; event({ context: c.context, step: 'cluster', event: 'output', message: line }); return; }
            if (e.event === 'failed') failedStep = { step: e.step, error: e.error ?? '' };
            tracker.feed(e);
            if (input.output === 'json') input.emit(relayed(e, c.context));
          },
        }).catch((err: unknown) => ({ exitCode: 1, stdout: '', stderr: `error: could not run ${fd.self[0]}: ${(err as Error).message}`, skipped: false }));
        // The failed step's own error (a command's output included) says most; else the run's top-level error.
        const why = res.exitCode === 0 ? plain : oneLine(failedStep ? `step "${failedStep.step}" failed: ${failedStep.error.replace(/^step "[^"]*" failed: /, '')}` : errorLine(res.stderr)) || `exited ${res.exitCode}`;
        tracker.exit(res.exitCode, why);
        if (res.exitCode !== 0) {
          // Where it is now: on its old version, half-way, or rolled back (--on-failure rollback).
          const now = (await input.check(c)).version ?? undefined;
          const rolledBack = state.settings.onFailure === 'rollback' && (await readRollbackJournal(fd.fs, clusterBackupDir(fleetDir, c)).catch(() => undefined))?.finished === true;
          const rec = { status: input.signal.aborted ? 'interrupted' as const : 'failed' as const, from, now, ...(rolledBack ? { rolledBack } : {}), exitCode: res.exitCode, step: failedStep?.step, message: why };
          event({ context: c.context, step: 'cluster', event: 'failed', exitCode: res.exitCode, failedStep: failedStep?.step, error: why });
          return rec;
        }
      }
      const { version, problem } = await input.check(c);
      if (problem) {
        event({ context: c.context, step: 'verify', event: 'failed', error: problem });
        return { status: 'failed', from, now: version ?? undefined, exitCode: 4, step: 'verify', message: problem };
      }
      event({ context: c.context, step: 'verify', event: 'done', message: `on ${spec.to}, converged` });
      return { status: s.action === 'up-to-date' ? 'up-to-date' : 'done', from };
    })();
    return { context: c.context, finished: finished.then(async (r) => { await record(c.context, r); return r; }) };
  }

  function clusterTask(context: string, runs: ClusterRun[]): ListrTask {
    const c = byContext.get(context)!;
    const s = surveys.get(context)!;
    return {
      title: groupTitle(plan, s),
      task: (_ctx, group) => {
        const steps = s.action === 'up-to-date' ? [] : s.steps;
        const tracker = new StepTracker(steps);
        const run = startCluster(c, s, tracker);
        runs.push(run);
        return group.newListr([
          ...steps.map((st): ListrTask => ({
            title: `[${st.id}] ${st.title}`,
            task: async (_c, t) => {
              tracker.onProgress(st.id, (m) => { t.output = m; });
              const o = await tracker.outcome(st.id);
              const title = tracker.title(st.id) ?? st.title;
              // On a terminal the reason replaces the title: keep the step id in it (the plain renderer shows both).
              if (o.kind === 'skipped') { t.title = `[${st.id}] ${title}`; t.skip(process.stdout.isTTY ? `[${st.id}] ${o.reason}` : o.reason); return; }
              t.title = `[${st.id}] ${title}${o.note ? `: ${o.note}` : ''}`;
            },
          })),
          {
            title: `[verify] ${context} on ${spec.to}: control plane ready, every sidecar on ${spec.to}`,
            task: async () => {
              const r = await run.finished;
              if (r.status !== 'done' && r.status !== 'up-to-date') throw new Error(r.message ?? `exit ${r.exitCode}`);
            },
          },
        ], { concurrent: false, exitOnError: true });
      },
    };
  }

  async function runWave(w: Wave): Promise<ClusterRun[]> {
    const runs: ClusterRun[] = [];
    event({ step: 'wave', event: 'start', wave: w.index, canary: w.canary, contexts: w.contexts });
    await new Listr(w.contexts.map((ctx) => clusterTask(ctx, runs)), { ...listOptions(input), concurrent: w.contexts.length, exitOnError: false })
      .run().catch(() => undefined); // each cluster's outcome is in its record
    await Promise.all(runs.map((r) => r.finished));
    return runs;
  }

  async function soak(canary: string): Promise<string | undefined> {
    const ms = state.settings.soakMs;
    let problem: string | undefined;
    event({ context: canary, step: 'soak', event: 'start', seconds: ms / 1000 });
    await new Listr([{
      title: `[soak] ${ms / 1000}s, then ${canary} again: control plane ready, every sidecar on ${spec.to}`,
      task: async (_c, t) => {
        t.output = `until ${new Date(fd.clock.now() + ms).toISOString()}`;
        try { await fd.clock.sleep(ms, input.signal); } catch { problem = 'interrupted during the soak'; throw new Error(problem); }
        problem = (await input.check(byContext.get(canary)!)).problem;
        if (problem) throw new Error(problem);
      },
    }], listOptions(input)).run().catch(() => undefined);
    state.soak = problem ? 'failed' : 'passed';
    await record(canary, state.clusters[canary]!);
    event(problem ? { context: canary, step: 'soak', event: 'failed', error: problem } : { context: canary, step: 'soak', event: 'done' });
    return problem;
  }

  // A resumed fleet whose canary passed before, but not its soak (the fleet stopped during it): soak first.
  const canaryDone = plan.canary !== undefined && ['done', 'up-to-date'].includes(state.clusters[plan.canary]?.status ?? '');
  if (canaryDone && state.settings.soakMs > 0 && state.soak !== 'passed' && plan.waves.length && !plan.waves.some((w) => w.canary)) {
    const problem = await soak(plan.canary!);
    if (problem) return { stopped: { context: plan.canary, why: `the canary after the soak: ${problem}`, exitCode: input.signal.aborted ? 130 : 1 } };
  }
  for (const w of plan.waves) {
    if (input.signal.aborted) return { stopped: { why: 'interrupted', exitCode: 130 } };
    const runs = await runWave(w);
    for (const r of runs) {
      const rec = state.clusters[r.context]!;
      if (rec.status !== 'done' && rec.status !== 'up-to-date') {
        return { stopped: { context: r.context, why: rec.message ?? rec.status, exitCode: rec.status === 'interrupted' ? 130 : rec.exitCode === 4 ? 4 : 1 } };
      }
    }
    if (w.canary && state.settings.soakMs > 0 && state.soak !== 'passed' && plan.waves.at(-1) !== w) {
      const problem = await soak(plan.canary!);
      if (problem) return { stopped: { context: plan.canary, why: `the canary after the soak: ${problem}`, exitCode: input.signal.aborted ? 130 : 1 } };
    }
  }
  return {};
}
