import path from 'node:path';
import type { Deps } from '../deps.ts';
import type { Install, Plan, PlanOptions } from './types.ts';
import { UsageError } from '../errors.ts';
import { appendPrivateFile, ensurePrivateDir, readPrivateFile } from '../backup/private-files.ts';
import type { RunBinaries } from './binary-digests.ts';
import { checkJournalRecords, journalSchemaVersion, type ClusterIdentity, type JournalRecord } from './journal-schema.ts';

export { journalSchemaVersion };

/**
 * The run's journal: `<backup dir>/journal.ndjson`, one JSON record per line, appended and fsynced
 * as each step finishes. The first record holds what the plan was built from (the install as
 * detected and the planner's options, secrets `<redacted>`), the plan itself, the cluster's
 * identity and the SHA-256 of every binary and local chart the plan uses, so `--resume DIR` can plan the same steps again even when the mesh it started from is
 * gone (after a remove, detection would find nothing). A resume never runs a command or a binary
 * read from this file: it finds the binaries as a fresh run does, refuses when their hashes are not
 * the journaled ones, rebuilds the plan (resume.ts) and refuses when the journaled one differs.
 */
export type { ClusterIdentity, JournalRecord };

export const journalFile = 'journal.ndjson';

export interface JournalState {
  /** As journaled: secrets are `<redacted>` here. */
  plan: Plan;
  install: Install;
  inputs: PlanOptions;
  cluster: ClusterIdentity;
  /** The binaries and chart the run used, with their hashes: a resume finds its own and compares (binary-digests.ts). */
  binaries: RunBinaries;
  /** The newest run or resume of this journal: the lease holder to take over on --resume. */
  runId: string;
  done: Set<string>;
  data: Map<string, Record<string, unknown>>;
  finished: boolean;
}

/** Appends one record (an upgrade's JournalRecord, or a rollback's: rollback/journal.ts) to `<dir>/journal.ndjson`, fsynced. */
export async function appendJournal(fs: Deps['fs'], dir: string, record: JournalRecord | ({ type: string; runId: string; at: string } & Record<string, unknown>)): Promise<void> {
  // A private directory of the user's, and a journal reached without a symlink (private-files.ts).
  await ensurePrivateDir(fs, dir, 'the journal\'s directory');
  // JSON.stringify turns every Secret into <redacted>: no credential reaches the journal.
  await appendPrivateFile(fs, path.join(dir, journalFile), JSON.stringify(record) + '\n');
}

/** Parses a journal; a torn last line (the tool was killed mid-write) is ignored. */
export function parseJournal(text: string, file: string): JournalState {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parsed: unknown[] = [];
  lines.forEach((line, i) => {
    try {
      parsed.push(JSON.parse(line));
    } catch {
      if (i !== lines.length - 1) throw new UsageError(`${file}: line ${i + 1} is not valid JSON`, 'The journal is damaged; restore manually with `kubectl nsm-upgrade restore --from DIR`.');
    }
  });
  // Every record is checked against the schema before anything is taken from it.
  const records = checkJournalRecords(parsed, file);
  const first = records[0] as Extract<JournalRecord, { type: 'run' }>; // the schema check made sure
  const state: JournalState = { plan: first.plan, install: first.install, inputs: first.inputs, cluster: first.cluster, binaries: first.binaries, runId: first.runId, done: new Set(), data: new Map(), finished: false };
  for (const r of records) {
    if (r.type === 'step') { state.done.add(r.step); if (r.data) state.data.set(r.step, r.data); }
    if (r.type === 'finished') state.finished = true;
    if (r.type === 'resume') state.runId = r.runId; // the newest run holds (or held) the lease
  }
  return state;
}

export async function readJournal(fs: Deps['fs'], dir: string): Promise<JournalState> {
  const file = path.join(dir, journalFile);
  let text: string;
  try {
    text = await readPrivateFile(fs, file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`no journal at ${file}`, 'Pass the backup directory that the interrupted run printed to --resume.');
  }
  return parseJournal(text, file);
}
