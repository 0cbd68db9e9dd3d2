/**
 * The journals' records and their schema (one for the upgrade's journal and the rollback's:
 * journal.ts parses both). A journal is data the tool wrote, but it sits on disk where it can be
 * edited: every record is checked (schema/validate.ts) before --resume takes anything from it, and
 * a record that does not fit ends the resume with exit 2, nothing run. Besides its shape, the
 * parser checks what a schema cannot: the first record, the schema version, step ids of the plan.
 * What the plan's commands say is checked by rebuilding the plan (upgrade/resume.ts,
 * rollback/resume.ts): nothing read here is ever run as it stands.
 */
import type { JSONSchemaType } from '../schema/validate.ts';
import type { Plan, Step } from './types.ts';
import type { ChartDigest, FileDigest, RunBinaries } from './binary-digests.ts';
import { markKinds, type WindowMark } from './window.ts';

export interface ClusterIdentity {
  /** The API server URL the tool talked to (no credentials: the kubeconfig rejects URLs with them). */
  server: string;
  /** metadata.uid of namespace kube-system: the same URL may front another cluster after a rebuild. */
  uid: string;
}

/** A step's id, `hop<N>.<kind>`: what a step record is keyed by. */
export type StepId = Step['id'];

export interface StepRecord {
  type: 'step';
  runId: string;
  at: string;
  step: StepId;
  status: 'done';
  data?: Record<string, unknown> | undefined;
}
export interface ResumeRecord {
  type: 'resume';
  runId: string;
  at: string;
  previousRunId: string;
}
export interface FinishedRecord {
  type: 'finished';
  runId: string;
  at: string;
  converged: boolean;
}
/** A mark of the maintenance window (window.ts), journaled as soon as it is taken: a resumed run reports the whole window. */
export type WindowRecord = { type: 'window'; runId: string; at: string } & WindowMark;

/** What a journal's first record holds whoever wrote it: `T` is its type ("run", "rollback"). */
export interface StartRecord<T extends string = string, P extends PlanShape = Plan> {
  type: T;
  /** The journal's schema version: another one is refused before its shape is looked at. */
  schema: number;
  runId: string;
  at: string;
  toolVersion: string;
  cluster: ClusterIdentity;
  /** The binaries and chart the plan uses, with their hashes (binary-digests.ts). */
  binaries: RunBinaries;
  /** As journaled: secrets are `<redacted>` here. */
  plan: P;
}

/** A journal's records: its start record first, then one per finished step, resume, window mark and finish. */
export type JournalRecord<S extends StartRecord<string, PlanShape>> =
  S | StepRecord | ResumeRecord | FinishedRecord | WindowRecord;

/**
 * What the schema checks of a journaled plan: what a reader takes from it before the plan built
 * again is compared with it (every step's kind, parameters and commands: resume.ts) or that a
 * rollback plans from (hops, their versions, the method). A start record is checked with this in
 * place of its plan (StartShape).
 */
export type PlanShape = Pick<Plan, 'from' | 'to' | 'namespace' | 'method' | 'environment' | 'release'> & {
  hops: (Pick<Plan['hops'][number], 'index' | 'from' | 'to' | 'strategy' | 'method'> & { steps: StepShape[] })[];
};
export interface StepShape {
  id: StepId;
  kind: string;
  title: string;
  params: object;
}
/** A start record as its schema checks it: its plan by PlanShape, and what its plan adds to a Plan (a rollback's `rollback`) in full. */
export type StartShape<S extends StartRecord<string, PlanShape>> = Omit<S, 'plan'> & {
  plan: PlanShape & Omit<S['plan'], keyof Plan>;
};

const text = { type: 'string' } as const;
const nonEmpty = { type: 'string', minLength: 1, description: 'a non-empty string' } as const;
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'a SHA-256 (64 hex digits)' } as const;
/** Versions as the planner normalizes them ("1.7.0"); a rollback to no mesh is "none". */
const version = { type: 'string', minLength: 1, description: 'a version' } as const;

const clusterIdentity: JSONSchemaType<ClusterIdentity> = {
  type: 'object',
  properties: { server: nonEmpty, uid: nonEmpty },
  required: ['server', 'uid'],
};

const fileDigest: JSONSchemaType<FileDigest> = {
  type: 'object',
  properties: { path: nonEmpty, sha256 },
  required: ['path', 'sha256'],
};
const chartDigest: JSONSchemaType<ChartDigest> = {
  type: 'object',
  properties: { ref: nonEmpty, sha256: { ...sha256, nullable: true } },
  required: ['ref'],
};
const runBinaries: JSONSchemaType<RunBinaries> = {
  type: 'object',
  properties: {
    meshctl: { type: 'object', additionalProperties: fileDigest, required: [] },
    helm: { ...fileDigest, nullable: true },
    chart: chartDigest,
  },
  required: ['meshctl', 'chart'],
};

export const methodSchema = { type: 'string', enum: ['meshctl', 'helm'] } as const;
export const environmentSchema = { type: 'string', enum: ['kubernetes', 'openshift'] } as const;

const stepId = {
  type: 'string',
  pattern: '^hop[1-9][0-9]*\\.[a-z][a-z-]*$',
  description: 'a step id (hop<N>.<kind>)',
} as const;
const stepShape: JSONSchemaType<StepShape> = {
  type: 'object',
  properties: {
    id: stepId,
    kind: { type: 'string', pattern: '^[a-z][a-z-]*$', description: 'a step kind' },
    title: text,
    params: { type: 'object' },
  },
  required: ['id', 'kind', 'title', 'params'],
};

/** A plan's properties as the schema checks them (PlanShape); a rollback's plan adds its own (rollback/journal.ts). */
export const planShapeProperties = {
  from: version,
  to: version,
  namespace: nonEmpty,
  method: methodSchema,
  environment: environmentSchema,
  release: { ...text, nullable: true },
  hops: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        index: { type: 'integer', minimum: 1, description: 'a hop number (1 or more)' },
        from: version,
        to: version,
        strategy: { type: 'string', enum: ['in-place', 'manual'] },
        method: methodSchema,
        steps: { type: 'array', items: stepShape },
      },
      required: ['index', 'from', 'to', 'strategy', 'method', 'steps'],
    },
  },
} as const;
export const planShapeRequired = ['from', 'to', 'namespace', 'method', 'environment', 'hops'] as const;
const planShape: JSONSchemaType<PlanShape> = {
  type: 'object',
  properties: planShapeProperties,
  required: planShapeRequired,
};

/** The properties every start record has (its type and its own fields are the caller's). */
export const startProperties = {
  schema: { type: 'integer' },
  runId: nonEmpty,
  at: text,
  toolVersion: text,
  cluster: clusterIdentity,
  binaries: runBinaries,
  plan: planShape,
} as const;
export const startRequired = ['type', 'schema', 'runId', 'at', 'toolVersion', 'cluster', 'binaries', 'plan'] as const;

const common = { runId: nonEmpty, at: text } as const;
const stepRecord: JSONSchemaType<StepRecord> = {
  type: 'object',
  // `step` must be the id of a step of the journaled plan (ids fit stepId there): the parser checks that.
  properties: {
    type: { type: 'string', const: 'step' },
    ...common,
    step: text,
    status: { type: 'string', const: 'done' },
    data: { type: 'object', required: [], nullable: true },
  },
  required: ['type', 'runId', 'at', 'step', 'status'],
};
const resumeRecord: JSONSchemaType<ResumeRecord> = {
  type: 'object',
  properties: { type: { type: 'string', const: 'resume' }, ...common, previousRunId: nonEmpty },
  required: ['type', 'runId', 'at', 'previousRunId'],
};
const finishedRecord: JSONSchemaType<FinishedRecord> = {
  type: 'object',
  properties: { type: { type: 'string', const: 'finished' }, ...common, converged: { type: 'boolean' } },
  required: ['type', 'runId', 'at', 'converged'],
};

/** A time as the API server and Date.toISOString write it (RFC 3339). */
const isoTime = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'an RFC 3339 time',
} as const;
const windowRecord: JSONSchemaType<WindowRecord> = {
  type: 'object',
  // `step` must be the id of a step of the journaled plan: the parser checks that, as for a step record.
  properties: {
    type: { type: 'string', const: 'window' },
    ...common,
    step: text,
    mark: { type: 'string', enum: [...markKinds] },
    time: isoTime,
    source: { type: 'string', enum: ['cluster', 'tool'] },
    what: { type: 'string', nullable: true },
  },
  required: ['type', 'runId', 'at', 'step', 'mark', 'time', 'source'],
};

/** One journal's schema: a record is its start record (`start`, checked by its plan's shape) or a step, resume, window or finished record, by its type. */
export function journalSchema<S extends StartRecord<string, PlanShape>>(
  start: JSONSchemaType<StartShape<S>>,
): JSONSchemaType<JournalRecord<StartShape<S>>> {
  return {
    type: 'object',
    discriminator: { propertyName: 'type' },
    oneOf: [start, stepRecord, resumeRecord, finishedRecord, windowRecord],
  };
}
