/**
 * One cluster's run in a fleet: this tool run again as a child process for that cluster (its
 * arguments from cluster-args.ts), its JSON events fed to the cluster's task group and relayed,
 * its stderr kept in the fleet's log, then the cluster checked again. Ends in the cluster's record.
 */
import path from 'node:path';
import type { FleetDeps } from '../deps.ts';
import { StepTracker, parseEventLine } from './child-events.ts';
import { clusterBackupDir, clusterRunArgs } from './cluster-args.ts';
import { readRollbackJournal } from '../rollback/journal.ts';
import type { ClusterRecord } from './state.ts';
import type { ClusterSurvey, FleetCluster } from './types.ts';
import { eventLine, type RunEvent } from '../engine/events.ts';
import { appendPrivateFile, ensurePrivateDir } from '../backup/private-files.ts';
import type { FleetRun } from './fleet-run.ts';

/** A cluster's run event as the fleet relays it: its context right after its time. */
function relayed(e: RunEvent, context: string): string {
  const { at, ...rest } = e;
  return eventLine({ at, context, ...rest });
}

/** The first "error: ..." line of a run's stderr (its top-level error), else its last line. */
export function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.find((l) => l.startsWith('error: ')) ?? lines.at(-1) ?? '').replace(/^error: /, '');
}

/** A message on one line (a command's output may span several). */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

/** Appends to a cluster's log in the fleet directory, never through a symlink (private-files.ts). */
async function appendLog(fd: FleetDeps, file: string, text: string): Promise<void> {
  await ensurePrivateDir(fd.fs, path.dirname(file), "the fleet's log directory");
  await appendPrivateFile(fd.fs, file, text, { sync: false });
}

export interface ClusterRun {
  context: string;
  /** Settles when the run ended and the fleet checked the cluster: the cluster's record by then. */
  finished: Promise<Omit<ClusterRecord, 'at'>>;
}

/** Runs one cluster's upgrade, following its events, then checks the cluster. Never throws. */
export function startCluster(run: FleetRun, c: FleetCluster, s: ClusterSurvey, tracker: StepTracker): ClusterRun {
  const { fd, input, settings, record, event, now } = run;
  const { state, fleetDir } = input;
  const spec = state.spec;
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
      const res = await fd.exec
        .run(
          { bin: fd.self[0]!, args: [...fd.self.slice(1), ...args], writes: true },
          {
            onStart: (pid) => {
              void record(c.context, { status: 'running', from, pid });
            },
            onLine: (line, stream) => {
              if (stream === 'stderr') {
                void appendLog(fd, log, `${line}\n`).catch(() => undefined);
                return;
              }
              const e = parseEventLine(line);
              if (!e) {
                plain = line;
                event({ context: c.context, step: 'cluster', event: 'output', message: line });
                return;
              }
              if (e.event === 'failed') failedStep = { step: e.step, error: e.error ?? '' };
              tracker.feed(e);
              if (input.output === 'json') input.emit(relayed(e, c.context));
            },
          },
        )
        .catch((err: unknown) => ({
          exitCode: 1,
          stdout: '',
          stderr: `error: could not run ${fd.self[0]}: ${(err as Error).message}`,
          skipped: false,
        }));
      // The failed step's own error (a command's output included) says most; else the run's top-level error.
      const why =
        res.exitCode === 0
          ? plain
          : oneLine(
              failedStep
                ? `step "${failedStep.step}" failed: ${failedStep.error.replace(/^step "[^"]*" failed: /, '')}`
                : errorLine(res.stderr),
            ) || `exited ${res.exitCode}`;
      tracker.exit(res.exitCode, why);
      if (res.exitCode !== 0) {
        // Where it is now: on its old version, half-way, or rolled back (--on-failure rollback).
        const now = (await input.check(c)).version ?? undefined;
        const rolledBack =
          state.settings.onFailure === 'rollback' &&
          (await readRollbackJournal(fd.fs, clusterBackupDir(fleetDir, c)).catch(() => undefined))?.finished === true;
        const rec = {
          status: input.signal.aborted ? ('interrupted' as const) : ('failed' as const),
          from,
          now,
          ...(rolledBack ? { rolledBack } : {}),
          exitCode: res.exitCode,
          step: failedStep?.step,
          message: why,
        };
        event({
          context: c.context,
          step: 'cluster',
          event: 'failed',
          exitCode: res.exitCode,
          failedStep: failedStep?.step,
          error: why,
        });
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
  return {
    context: c.context,
    finished: finished.then(async (r) => {
      await record(c.context, r);
      return r;
    }),
  };
}
