/**
 * The rollback's journal: `<run dir>/rollback/journal.ndjson`, beside (never inside) the upgrade's,
 * in the upgrade journal's format (engine/journal.ts: one parser, one schema) with its own first
 * record. That record holds what the rollback plan was built from that the run directory does not:
 * the options (binaries, chart, timeout; no credential), the SHA-256 of its binaries and local
 * chart, and the cluster as it was when the rollback was planned. `rollback --resume` reads them,
 * builds the plan again from them, the upgrade's journal and the re-verified backup (resume.ts),
 * and refuses when it differs from the journaled plan: nothing read from this file is ever run as it stands.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { readPrivateFile } from '../backup/private-files.ts';
import { journalFormat, parseJournalOf, type JournalOf } from '../engine/journal.ts';
import {
  planShapeProperties,
  planShapeRequired,
  startProperties,
  startRequired,
  type StartRecord,
  type StartShape,
} from '../engine/journal-schema.ts';
import { commandInputsProperties, commandInputsRequired } from '../engine/run-record.ts';
import type { JSONSchemaType } from '../schema/validate.ts';
import type { LiveFacts, RollbackOptions, RollbackPlan } from './types.ts';
import { rollbackDir } from './types.ts';

export const rollbackSchemaVersion = 2;

export interface RollbackRecord extends StartRecord<'rollback', RollbackPlan> {
  upgradeRunId: string;
  options: RollbackOptions;
  live: LiveFacts;
  /** The upgrade step whose failure started this rollback (--on-failure rollback). */
  failedStep?: string | undefined;
}

export type RollbackJournal = JournalOf<RollbackRecord>;

const text = { type: 'string' } as const;
const optionalText = { type: 'string', nullable: true } as const;
const texts = { type: 'array', items: text } as const;
const objectList = {
  type: 'object',
  properties: { count: { type: 'integer', minimum: 0 }, sample: texts },
  required: ['count', 'sample'],
} as const;

const options: JSONSchemaType<RollbackOptions> = {
  type: 'object',
  properties: { ...commandInputsProperties, from: text, allHops: { type: 'boolean' }, force: { type: 'boolean' } },
  required: [...commandInputsRequired, 'from', 'allHops', 'force'],
};

const live: JSONSchemaType<LiveFacts> = {
  type: 'object',
  properties: {
    version: optionalText,
    release: optionalText,
    releaseStatus: optionalText,
    valuesMatchBackup: { type: 'boolean' },
    restorableRevisions: { type: 'array', items: { type: 'integer' } },
    crdChanges: texts,
    incompatible: {
      type: 'array',
      items: { type: 'object', properties: { object: text, why: text }, required: ['object', 'why'] },
    },
    changed: objectList,
    deleted: objectList,
    created: objectList,
    meshConfig: {
      type: 'object',
      properties: { carried: { type: 'object', required: [] }, noSetting: texts },
      required: ['carried', 'noSetting'],
    },
  },
  required: [
    'valuesMatchBackup',
    'restorableRevisions',
    'crdChanges',
    'incompatible',
    'changed',
    'deleted',
    'created',
    'meshConfig',
  ],
};

/** What the schema checks of a rollback plan: an upgrade plan's shape, and how it goes back. */
const rollbackPlanShape: JSONSchemaType<StartShape<RollbackRecord>['plan']> = {
  type: 'object',
  properties: {
    ...planShapeProperties,
    rollback: {
      type: 'object',
      properties: {
        source: text,
        upgradeRunId: text,
        hop: { type: 'integer', minimum: 1 },
        allHops: { type: 'boolean' },
        path: { type: 'string', enum: ['meshctl-redeploy', 'helm-rollback', 'helm-reinstall', 'already-back'] },
        losses: {
          type: 'array',
          items: {
            type: 'object',
            properties: { id: text, message: text, fix: text, forceable: { type: 'boolean' } },
            required: ['id', 'message', 'fix', 'forceable'],
          },
        },
        forced: { type: 'boolean' },
      },
      required: ['source', 'upgradeRunId', 'hop', 'allHops', 'path', 'losses', 'forced'],
    },
  },
  required: [...planShapeRequired, 'rollback'],
};

const rollbackRecordSchema: JSONSchemaType<StartShape<RollbackRecord>> = {
  type: 'object',
  properties: {
    type: { type: 'string', const: 'rollback' },
    ...startProperties,
    plan: rollbackPlanShape,
    upgradeRunId: text,
    options,
    live,
    failedStep: optionalText,
  },
  required: [...startRequired, 'upgradeRunId', 'options', 'live'],
};

const rollbackJournal = journalFormat<RollbackRecord>('rollback', rollbackSchemaVersion, rollbackRecordSchema, {
  name: 'the rollback journal',
  empty: 'Start the rollback again without --resume.',
  fix: 'The journal was changed or damaged, so --resume will not trust it and nothing was run. Check the cluster (kubectl nsm-upgrade status).',
  // Earlier versions journaled the rollback's restart of the injected workloads as step kind "reroll".
  renamedKinds: { reroll: 'restart' },
});

/** Pure: the rollback's journal, checked against its schema (engine/journal.ts: parseJournalOf). */
export function parseRollbackJournal(text: string, file: string): RollbackJournal {
  return parseJournalOf(text, file, rollbackJournal);
}

export function rollbackJournalFile(from: string): string {
  return path.join(rollbackDir(from), 'journal.ndjson');
}

/** The rollback journal of the run in `from`, or undefined when no rollback was started there. */
export async function readRollbackJournal(fs: Deps['fs'], from: string): Promise<RollbackJournal | undefined> {
  const file = rollbackJournalFile(from);
  let text: string;
  try {
    text = await readPrivateFile(fs, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseRollbackJournal(text, file);
}
