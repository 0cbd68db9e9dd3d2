import path from 'node:path';
import type { Deps } from '../deps.ts';
import type { Plan } from './types.ts';
import { UsageError } from '../errors.ts';

/**
 * The run's journal: `<backup dir>/journal.ndjson`, one JSON record per line, appended and fsynced
 * as each step finishes. The first record holds the plan, so `--resume DIR` walks the same steps
 * even when the mesh it started from is gone (after a remove, detection would find nothing).
 */
export type JournalRecord =
  | { type: 'run'; runId: string; at: string; plan: Plan; toolVersion: string; argv: string[] }
  | { type: 'step'; runId: string; at: string; step: string; status: 'done'; data?: Record<string, unknown> }
  | { type: 'resume'; runId: string; at: string; previousRunId: string }
  | { type: 'finished'; runId: string; at: string; converged: boolean };

export const journalFile = 'journal.ndjson';

export interface JournalState {
  plan: Plan;
  /** The newest run or resume of this journal: the lease holder to take over on --resume. */
  runId: string;
  done: Set<string>;
  data: Map<string, Record<string, unknown>>;
  finished: boolean;
}

export async function appendJournal(fs: Deps['fs'], dir: string, record: JournalRecord): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const fh = await fs.open(path.join(dir, journalFile), 'a', 0o600);
  try {
    await fh.appendFile(JSON.stringify(record) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Parses a journal; a torn last line (the tool was killed mid-write) is ignored. */
export function parseJournal(text: string, file: string): JournalState {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const records: JournalRecord[] = [];
  lines.forEach((line, i) => {
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      if (i !== lines.length - 1) throw new UsageError(`${file}: line ${i + 1} is not valid JSON`, 'The journal is damaged; restore manually with `kubectl nsm-upgrade restore --from DIR`.');
    }
  });
  const first = records[0];
  if (!first || first.type !== 'run') throw new UsageError(`${file} does not start with a run record`, 'Pass the backup directory of an upgrade run to --resume.');
  const state: JournalState = { plan: first.plan, runId: first.runId, done: new Set(), data: new Map(), finished: false };
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
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UsageError(`no journal at ${file}`, 'Pass the backup directory that the interrupted run printed to --resume.');
  }
  return parseJournal(text, file);
}
