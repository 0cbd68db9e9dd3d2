/**
 * The upgrade journal's first record, the run record: what the plan was built from (the install as
 * detected and the planner's options, secrets `<redacted>`), the plan, the cluster's identity and
 * the hashes of the binaries and chart, so `--resume DIR` can plan the same steps again even when
 * the mesh it started from is gone. Its schema is every field the planner reads: a resume builds
 * the plan again from them (upgrade/resume.ts) and refuses when it differs from the journaled one.
 */
import type { JSONSchemaType } from '../schema/validate.ts';
import type { Leftover } from '../leftovers/types.ts';
import type { Install, Plan, PlanOptions } from './types.ts';
import {
  environmentSchema,
  methodSchema,
  startProperties,
  startRequired,
  type StartRecord,
  type StartShape,
} from './journal-schema.ts';

export interface RunRecord extends StartRecord<'run', Plan> {
  install: Install;
  inputs: PlanOptions;
}

const text = { type: 'string' } as const;
const optionalText = { type: 'string', nullable: true } as const;
const flag = { type: 'boolean', nullable: true } as const;
const texts = { type: 'array', items: text } as const;
const stringMap = { type: 'object', additionalProperties: text, required: [] } as const;

const install: JSONSchemaType<Install> = {
  type: 'object',
  properties: {
    namespace: text,
    version: text,
    method: methodSchema,
    release: optionalText,
    releaseRevision: { type: 'integer', nullable: true },
    releaseStatus: optionalText,
    releaseStuck: { type: 'boolean' },
    chartVersion: optionalText,
    environment: environmentSchema,
    values: { type: 'object', required: [] },
    controlPlane: {
      type: 'object',
      properties: { deployment: text, image: text },
      required: ['deployment', 'image'],
      nullable: true,
    },
    warnings: texts,
  },
  required: ['namespace', 'version', 'method', 'releaseStuck', 'environment', 'values', 'warnings'],
};

/** The binaries, chart, timeout and context of a plan's commands: an upgrade's inputs and a rollback's options (rollback/journal.ts). */
export const commandInputsProperties = {
  meshctlBinaries: stringMap,
  meshctlFound: {
    type: 'object',
    additionalProperties: { type: 'object', properties: { path: text, why: text }, required: ['path', 'why'] },
    required: [],
    nullable: true,
  },
  helm: {
    type: 'object',
    properties: { bin: text, major: { type: 'integer', enum: [3, 4] } },
    required: ['bin', 'major'],
    nullable: true,
  },
  chart: {
    type: 'object',
    discriminator: { propertyName: 'kind' },
    oneOf: [
      { type: 'object', properties: { kind: { type: 'string', const: 'repo' }, ref: text }, required: ['kind', 'ref'] },
      {
        type: 'object',
        properties: { kind: { type: 'string', const: 'versioned-dir' }, dir: text },
        required: ['kind', 'dir'],
      },
      {
        type: 'object',
        properties: { kind: { type: 'string', const: 'path' }, path: text, version: text },
        required: ['kind', 'path', 'version'],
      },
    ],
  },
  timeout: text,
  context: optionalText,
} as const;
export const commandInputsRequired = ['meshctlBinaries', 'chart', 'timeout'] as const;

const leftover: JSONSchemaType<Leftover> = {
  type: 'object',
  properties: {
    kind: {
      type: 'string',
      enum: ['webhook', 'crd-unlabelled', 'apiservice', 'spire-pvc', 'sentinel-job', 'terminating-namespace'],
    },
    what: text,
    name: text,
    namespace: optionalText,
    uid: optionalText,
    resource: {
      type: 'string',
      enum: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
      nullable: true,
    },
    holders: {
      type: 'array',
      nullable: true,
      items: {
        type: 'object',
        properties: { path: text, name: text, uid: optionalText, resource: text, finalizers: texts },
        required: ['path', 'name', 'resource', 'finalizers'],
      },
    },
    breaks: text,
    clear: { type: 'object', properties: { bin: text, args: texts }, required: ['bin', 'args'] },
    foreign: optionalText,
  },
  required: ['kind', 'what', 'name', 'breaks', 'clear'],
};

const inputs: JSONSchemaType<PlanOptions> = {
  type: 'object',
  properties: {
    ...commandInputsProperties,
    to: text,
    strategy: { type: 'string', enum: ['auto', 'in-place', 'manual'] },
    deployFlagChanges: stringMap,
    labelNamespaces: { type: 'boolean' },
    unlabelledInjectedNamespaces: texts,
    backupDir: text,
    leftovers: { type: 'array', items: leftover, nullable: true },
    cleanLeftovers: flag,
    acceptPruning: flag,
    deleteForeignObjects: flag,
  },
  required: [
    ...commandInputsRequired,
    'to',
    'strategy',
    'deployFlagChanges',
    'labelNamespaces',
    'unlabelledInjectedNamespaces',
    'backupDir',
  ],
};

export const runRecordSchema: JSONSchemaType<StartShape<RunRecord>> = {
  type: 'object',
  properties: { type: { type: 'string', const: 'run' }, ...startProperties, install, inputs },
  required: [...startRequired, 'install', 'inputs'],
};
