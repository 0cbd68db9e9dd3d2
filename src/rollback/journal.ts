/**
 * The rollback's journal: `<run dir>/rollback/journal.ndjson`, beside (never inside) the upgrade's.
 * The first record holds what the rollback plan was built from that the run directory does not:
 * the options (binaries, chart, timeout; no credential), the SHA-256 of its binaries and local
 * chart, and the cluster as it was when the rollback was planned. `rollback --resume` reads them, builds the plan again from them, the
 * upgrade's journal and the re-verified backup (resume.ts), and refuses when it differs from the
 * journaled plan: nothing read from this file is ever run as it stands.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { readPrivateFile } from '../backup/private-files.ts';
import type { ClusterIdentity } from '../engine/journal.ts';
import { binariesProblem } from '../engine/journal-schema.ts';
import type { RunBinaries } from '../engine/binary-digests.ts';
import type { LiveFacts, RollbackOptions, RollbackPlan } from './types.ts';
import { rollbackDir } from './types.ts';

export const rollbackSchemaVersion = 2;

export type RollbackRecord =
  | { type: 'rollback'; schema: number; runId: string; at: string; toolVersion: string; upgradeRunId: string; options: RollbackOptions; live: LiveFacts; cluster: ClusterIdentity; plan: RollbackPlan; failedStep?: string; binaries: RunBinaries }
  | { type: 'step'; runId: string; at: string; step: string; status: 'done'; data?: Record<string, unknown> }
  | { type: 'resume'; runId: string; at: string; previousRunId: string }
  | { type: 'finished'; runId: string; at: string; converged: boolean };

export interface RollbackJournal {
  options: RollbackOptions;
  live: LiveFacts;
  cluster: ClusterIdentity;
  /** The binaries and chart the rollback used, with their hashes (upgrade/binary-digests.ts). */
  binaries: RunBinaries;
  /** As journaled: credentials are `<redacted>`. */
  plan: RollbackPlan;
  upgradeRunId: string;
  /** The upgrade step whose failure started this rollback (--on-failure rollback). */
  failedStep: string | undefined;
  /** The newest run or resume: the lease holder to take over on --resume. */
  runId: string;
  done: Set<string>;
  data: Map<string, Record<string, unknown>>;
  finished: boolean;
}

const typeOf = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Pure: the journal's records checked against the schema, or a UsageError naming the first line that does not fit. */
export function parseRollbackJournal(text: string, file: string): RollbackJournal {
  const fail = (line: number, why: string) => new UsageError(`${file}: line ${line} does not fit the rollback journal's schema: ${why}`,
    'The journal was changed or damaged, so --resume will not trust it and nothing was run. Check the cluster (kubectl nsm-upgrade status).');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const records: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    try { records.push(JSON.parse(line) as Record<string, unknown>); } catch {
      if (i !== lines.length - 1) throw fail(i + 1, 'not valid JSON'); // a torn last line: the tool was killed mid-write
    }
  });
  if (records.length === 0) throw new UsageError(`${file} is empty`, 'Start the rollback again without --resume.');
  const first = records[0]!;
  if (typeOf(first) !== 'object' || first.type !== 'rollback') throw fail(1, 'the first record must be the rollback record');
  if (first.schema !== rollbackSchemaVersion) throw fail(1, `schema ${String(first.schema)}, this version reads schema ${rollbackSchemaVersion}`);
  for (const [k, t] of [['runId', 'string'], ['upgradeRunId', 'string'], ['options', 'object'], ['live', 'object'], ['cluster', 'object'], ['plan', 'object'], ['binaries', 'object']] as const) {
    if (typeOf(first[k]) !== t) throw fail(1, `${k} is ${typeOf(first[k])}, not ${t}`);
  }
  const binaries = first.binaries as Record<string, unknown>;
  const badBinaries = typeOf(binaries.meshctl) !== 'object' || typeOf(binaries.chart) !== 'object' ? 'binaries needs meshctl and chart' : binariesProblem(binaries);
  if (badBinaries) throw fail(1, badBinaries);
  const plan = first.plan as RollbackPlan;
  if (!Array.isArray(plan.hops) || typeOf(plan.rollback) !== 'object') throw fail(1, 'plan is not a rollback plan');
  const ids = new Set(plan.hops.flatMap((h) => (Array.isArray(h?.steps) ? h.steps.map((s) => String(s?.id)) : [])));
  const j: RollbackJournal = {
    options: first.options as RollbackOptions, live: first.live as LiveFacts, cluster: first.cluster as ClusterIdentity, binaries: binaries as unknown as RunBinaries, plan, upgradeRunId: first.upgradeRunId as string,
    failedStep: typeof first.failedStep === 'string' ? first.failedStep : undefined, runId: first.runId as string, done: new Set(), data: new Map(), finished: false,
  };
  records.slice(1).forEach((r, i) => {
    const line = i + 2;
    if (typeOf(r) !== 'object' || typeof r.runId !== 'string' || typeof r.at !== 'string') throw fail(line, 'not a record');
    if (r.type === 'step') {
      if (!ids.has(String(r.step))) throw fail(line, `step ${JSON.stringify(r.step)} is not a step of the journaled plan`);
      if (r.status !== 'done') throw fail(line, `step status ${JSON.stringify(r.status)}`);
      if (r.data !== undefined && typeOf(r.data) !== 'object') throw fail(line, 'step data is not an object');
      j.done.add(r.step as string);
      if (r.data) j.data.set(r.step as string, r.data as Record<string, unknown>);
    } else if (r.type === 'resume') {
      j.runId = r.runId;
    } else if (r.type === 'finished') {
      j.finished = true;
    } else {
      throw fail(line, `unknown record type ${JSON.stringify(r.type)}`);
    }
  });
  return j;
}

export function rollbackJournalFile(from: string): string {
  return path.join(rollbackDir(from), 'journal.ndjson');
}

/** The rollback journal of the run in `from`, or undefined when no rollback was started there. */
export async function readRollbackJournal(fs: Deps['fs'], from: string): Promise<RollbackJournal | undefined> {
  const file = rollbackJournalFile(from);
  let text: string;
  try { text = await readPrivateFile(fs, file); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseRollbackJournal(text, file);
}
