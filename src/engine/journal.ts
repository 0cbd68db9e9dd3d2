import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { appendPrivateFile, ensurePrivateDir, readPrivateFile } from '../backup/private-files.ts';
import { badDocument, checkVersion, shapeProblem, type JSONSchemaType } from '../schema/validate.ts';
import {
  journalSchema,
  type ClusterIdentity,
  type FinishedRecord,
  type JournalRecord,
  type PlanShape,
  type ResumeRecord,
  type StartRecord,
  type StartShape,
  type StepId,
  type StepRecord,
  type WindowRecord,
} from './journal-schema.ts';
import type { WindowMark } from './window.ts';
import { runRecordSchema, type RunRecord } from './run-record.ts';
import type { StepKind } from './types.ts';

/**
 * A run's journal, `<dir>/journal.ndjson`: one JSON record per line, appended and fsynced as each
 * step finishes. The upgrade's (in its backup directory, first record a RunRecord: run-record.ts)
 * and the rollback's (`<run dir>/rollback/`, first record a RollbackRecord: rollback/journal.ts)
 * are one format with their own first record, read by one parser against one schema
 * (journal-schema.ts). A resume never runs a command or a binary read from a journal: it finds the
 * binaries as a fresh run does, refuses when their hashes are not the journaled ones, rebuilds the
 * plan and refuses when the journaled one differs.
 */
export type { ClusterIdentity, JournalRecord, RunRecord, StepId };

export const journalFile = 'journal.ndjson';

/** Bumped when the run record changes shape; a journal of another schema is refused on --resume. */
export const journalSchemaVersion = 3;

/** How far a journal's walk got. */
export interface JournalProgress {
  /** The newest run or resume of this journal: the lease holder to take over on --resume. */
  runId: string;
  /** The ids of the steps done (StepIds, as their records hold them). */
  done: Set<string>;
  data: Map<string, Record<string, unknown>>;
  /** The maintenance window's marks so far (window.ts), for a resumed run to report the whole window. */
  marks: WindowMark[];
  finished: boolean;
}

/** A journal as read: what its start record says (the plan and what it was built from) and how far its walk got. */
export type JournalOf<S extends StartRecord<string, PlanShape>> = Omit<
  S,
  'type' | 'schema' | 'runId' | 'at' | 'toolVersion'
> &
  JournalProgress;

/** The upgrade's journal. */
export type JournalState = JournalOf<RunRecord>;

/** One kind of journal: its first record's type and schema version, its schema, and what its refusals say. */
export interface JournalFormat<S extends StartRecord<string, PlanShape>> {
  /** "the journal", "the rollback journal". */
  name: string;
  start: S['type'];
  version: number;
  schema: JSONSchemaType<JournalRecord<StartShape<S>>>;
  /** The hint under a refusal of a record. */
  fix: string;
  /** The hint when the file holds no record. */
  empty: string;
  /**
   * Step kinds an earlier version journaled under another name (old -> new): read as the new
   * kind, in the plan's steps and in step ids, so that a resume of its journal still matches the
   * plan built again.
   */
  renamedKinds?: Readonly<Record<string, StepKind>> | undefined;
}

/** A kind of journal whose first record is of type `start`, in `version`, checked by `startSchema`. */
export function journalFormat<S extends StartRecord<string, PlanShape>>(
  start: S['type'],
  version: number,
  startSchema: JSONSchemaType<StartShape<S>>,
  texts: Pick<JournalFormat<S>, 'name' | 'fix' | 'empty' | 'renamedKinds'>,
): JournalFormat<S> {
  return { ...texts, start, version, schema: journalSchema<S>(startSchema) };
}

/** Appends one record (an upgrade's or a rollback's) to `<dir>/journal.ndjson`, fsynced. */
export async function appendJournal(fs: Deps['fs'], dir: string, record: JournalRecord<StartRecord>): Promise<void> {
  // A private directory of the user's, and a journal reached without a symlink (private-files.ts).
  await ensurePrivateDir(fs, dir, "the journal's directory");
  // JSON.stringify turns every Secret into <redacted>: no credential reaches the journal.
  await appendPrivateFile(fs, path.join(dir, journalFile), JSON.stringify(record) + '\n');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A step id `hop<N>.<kind>` with its kind as this version names it (JournalFormat.renamedKinds). */
function renamedStepId(renamed: JournalFormat<StartRecord<string, PlanShape>>['renamedKinds'], id: string): string {
  const dot = id.indexOf('.');
  const now = renamed?.[id.slice(dot + 1)];
  return now === undefined ? id : `${id.slice(0, dot)}.${now}`;
}

/**
 * Pure: a journal's records, each checked against the format's schema before anything is taken
 * from it, or a UsageError naming the first line that does not fit. A torn last line (the tool was
 * killed mid-write) is ignored. The start record's plan is checked by its shape (PlanShape): the
 * rest of it is compared with the plan built again before a resume runs anything.
 */
export function parseJournalOf<S extends StartRecord<string, PlanShape>>(
  text: string,
  file: string,
  format: JournalFormat<S>,
): JournalOf<S> {
  const source = (line: number) => ({
    where: `${file}: line ${line} does not fit ${format.name}'s schema`,
    fix: format.fix,
  });
  const refuse = (line: number, why: string) => badDocument(source(line), why);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const records: unknown[] = [];
  lines.forEach((line, i) => {
    try {
      records.push(JSON.parse(line));
    } catch {
      if (i !== lines.length - 1) throw new UsageError(`${file}: line ${i + 1} is not valid JSON`, format.fix);
    }
  });
  if (records.length === 0) throw new UsageError(`${file} is empty`, format.empty);
  const first = records[0];
  if (!isObject(first) || first.type !== format.start)
    throw refuse(1, `the first record must be the ${format.start} record`);
  checkVersion(
    first,
    'schema',
    format.version,
    source(1),
    (v) =>
      `schema ${String(v)}, this version reads schema ${format.version} (finish it with the version that started it)`,
  );
  let stepIds = new Set<string>();
  let state: JournalOf<S> | undefined;
  records.forEach((r, i) => {
    if (i > 0 && isObject(r) && r.type === format.start) throw refuse(i + 1, `a second ${format.start} record`);
    const problem = shapeProblem(format.schema, r);
    if (problem !== undefined) throw refuse(i + 1, problem);
    if (!state) {
      const start = r as StartShape<S>;
      for (const s of start.plan.hops.flatMap((h) => h.steps))
        Object.assign(s, {
          id: renamedStepId(format.renamedKinds, s.id),
          kind: format.renamedKinds?.[s.kind] ?? s.kind,
        });
      stepIds = new Set(start.plan.hops.flatMap((h) => h.steps.map((s) => s.id)));
      // The plan fits its shape; what it says beyond that is compared with the plan built again.
      state = {
        ...(start as unknown as S),
        runId: start.runId,
        done: new Set(),
        data: new Map(),
        marks: [],
        finished: false,
      };
      return;
    }
    const record = r as StepRecord | ResumeRecord | FinishedRecord | WindowRecord; // a start record is the first only
    if (record.type === 'step') {
      record.step = renamedStepId(format.renamedKinds, record.step) as StepId;
      if (!stepIds.has(record.step))
        throw refuse(i + 1, `step ${JSON.stringify(record.step)} is not a step of the journaled plan`);
      state.done.add(record.step);
      if (record.data) state.data.set(record.step, record.data);
    }
    if (record.type === 'window') {
      if (!stepIds.has(record.step))
        throw refuse(i + 1, `window mark of step ${JSON.stringify(record.step)}, not a step of the journaled plan`);
      state.marks.push({
        step: record.step,
        mark: record.mark,
        time: record.time,
        source: record.source,
        ...(record.what !== undefined ? { what: record.what } : {}),
      });
    }
    if (record.type === 'finished') state.finished = true;
    if (record.type === 'resume') state.runId = record.runId; // the newest run holds (or held) the lease
  });
  return state!;
}

const upgradeJournal = journalFormat<RunRecord>('run', journalSchemaVersion, runRecordSchema, {
  name: 'the journal',
  empty: 'Pass the backup directory of an upgrade run to --resume.',
  fix: 'The journal was changed or damaged, so --resume will not trust it and nothing was run. Check the cluster (kubectl nsm-upgrade status); the backup can be restored with `kubectl nsm-upgrade restore --from DIR/hop1`.',
});

/** Pure: the upgrade's journal (see parseJournalOf). */
export function parseJournal(text: string, file: string): JournalState {
  return parseJournalOf(text, file, upgradeJournal);
}

export async function readJournal(fs: Deps['fs'], dir: string): Promise<JournalState> {
  const file = path.join(dir, journalFile);
  let text: string;
  try {
    text = await readPrivateFile(fs, file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `no journal at ${file}`,
      'Pass the backup directory that the interrupted run printed to --resume.',
    );
  }
  return parseJournal(text, file);
}
