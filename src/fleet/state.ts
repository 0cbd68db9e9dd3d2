/**
 * The fleet's record: `<fleet dir>/fleet.json` (the directory 0700, the file 0600, written to a
 * temporary name and renamed). It holds what the fleet was started with (its clusters and their
 * settings: inputs, never a command line), the waves, and where each cluster is. `fleet --resume
 * DIR` reads it without trusting it: the directory and the file must be the user's and writable by
 * nobody else, the record must fit its schema, every path it names that gets executed, read as a
 * kubeconfig or installed as a chart must be a plain absolute path to a private file (unless the
 * fleet file or flags give them again), and its waves are built again (rebuildWaves), not read.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from '../backup/write.ts';
import { checkOwnedPrivate } from '../upgrade/resume.ts';
import { toolVersion } from '../version.ts';
import { badDocument, checkShape, checkVersion, type JSONSchemaType } from '../schema/validate.ts';
import { clusterDirNames, clusterProperties, maxParallelSchema } from './fleet-file.ts';
import type { FleetCluster, FleetPlan, FleetSpec } from './types.ts';

export const fleetStateFile = 'fleet.json';
export const fleetStateFormat = 1;

export type ClusterStatus = 'pending' | 'running' | 'done' | 'failed' | 'interrupted' | 'up-to-date' | 'skipped';
const statuses: readonly ClusterStatus[] = [
  'pending',
  'running',
  'done',
  'failed',
  'interrupted',
  'up-to-date',
  'skipped',
];

export interface ClusterRecord {
  status: ClusterStatus;
  at: string;
  /** The version it was on when the fleet surveyed it. */
  from?: string | undefined;
  /** After a failed run: the version its control plane runs (as read then). */
  now?: string | undefined;
  /** After a failed run with --on-failure rollback: its run rolled the hop back (its rollback journal finished). */
  rolledBack?: boolean | undefined;
  /** The run's process while it runs: a resume refuses while it is still alive. */
  pid?: number | undefined;
  exitCode?: number | undefined;
  /** The step that failed, and why. */
  step?: string | undefined;
  message?: string | undefined;
}

/** Settings of every cluster's run and of the fleet, fixed when it starts. */
export interface FleetSettings {
  timeout: string;
  labelNamespaces: boolean;
  onFailure: 'stop' | 'rollback';
  skipRefused: boolean;
  /** --soak in milliseconds (0: none). */
  soakMs: number;
}

export interface FleetState {
  format: number;
  toolVersion: string;
  createdAt: string;
  spec: FleetSpec;
  settings: FleetSettings;
  waves: string[][];
  clusters: Record<string, ClusterRecord>;
  /** The canary's re-check after the soak. */
  soak?: 'passed' | 'failed' | undefined;
}

type Fs = Deps['fs'];

export function newFleetState(spec: FleetSpec, settings: FleetSettings, waves: string[][], now: string): FleetState {
  return {
    format: fleetStateFormat,
    toolVersion,
    createdAt: now,
    spec,
    settings,
    waves,
    clusters: Object.fromEntries(spec.clusters.map((c) => [c.context, { status: 'pending' as const, at: now }])),
  };
}

/**
 * What the survey found, into the records of clusters not started yet: the version they are on, and
 * which are left out (refused, --skip-refused) or already on the target (other than the canary, which
 * its wave still checks).
 */
export function recordSurveys(state: FleetState, plan: FleetPlan, now: string): void {
  for (const s of plan.clusters) {
    const r = state.clusters[s.context];
    if (r?.status !== 'pending') continue;
    const status: ClusterStatus = plan.skipped.includes(s.context)
      ? 'skipped'
      : s.action === 'up-to-date' && s.context !== plan.canary
        ? 'up-to-date'
        : 'pending';
    state.clusters[s.context] = {
      ...r,
      at: now,
      from: s.from ?? r.from,
      status,
      ...(status === 'skipped' ? { message: s.refusals[0]?.message } : {}),
    };
  }
}

export async function writeFleetState(fs: Fs, dir: string, state: FleetState): Promise<void> {
  await writeFileAtomic(fs, dir, fleetStateFile, JSON.stringify(state, null, 2) + '\n');
}

const text = { type: 'string' } as const;
const optionalText = { type: 'string', nullable: true } as const;

const clusterRecord: JSONSchemaType<ClusterRecord> = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: statuses },
    at: text,
    from: optionalText,
    now: optionalText,
    rolledBack: { type: 'boolean', nullable: true },
    pid: { type: 'integer', minimum: 1, description: 'a process id', nullable: true },
    exitCode: { type: 'integer', nullable: true },
    step: optionalText,
    message: optionalText,
  },
  required: ['status', 'at'],
};

const fleetStateSchema: JSONSchemaType<FleetState> = {
  type: 'object',
  properties: {
    format: { type: 'integer' },
    toolVersion: text,
    createdAt: text,
    spec: {
      type: 'object',
      properties: {
        to: text,
        canary: optionalText,
        maxParallel: maxParallelSchema,
        clusters: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            // Every setting a run is given, as the fleet started it: nothing else (fleet-file.ts).
            properties: {
              ...clusterProperties,
              dir: clusterProperties.context,
              meshNamespace: clusterProperties.context,
              method: { type: 'string', enum: ['auto', 'meshctl', 'helm'] },
              strategy: { type: 'string', enum: ['auto', 'in-place', 'manual'] },
              meshctl: { type: 'array', items: clusterProperties.context },
            },
            required: ['context', 'dir', 'meshNamespace', 'method', 'strategy', 'meshctl'],
            additionalProperties: false,
          },
        },
      },
      required: ['to', 'clusters', 'maxParallel'],
    },
    settings: {
      type: 'object',
      properties: {
        timeout: text,
        labelNamespaces: { type: 'boolean' },
        onFailure: { type: 'string', enum: ['stop', 'rollback'] },
        skipRefused: { type: 'boolean' },
        soakMs: { type: 'number', minimum: 0 },
      },
      required: ['timeout', 'labelNamespaces', 'onFailure', 'skipRefused', 'soakMs'],
    },
    waves: { type: 'array', items: { type: 'array', items: text } },
    clusters: { type: 'object', additionalProperties: clusterRecord, required: [] },
    soak: { type: 'string', enum: ['passed', 'failed'], nullable: true },
  },
  required: ['format', 'toolVersion', 'createdAt', 'spec', 'settings', 'waves', 'clusters'],
};

/**
 * Pure: the record, typed, or a UsageError naming what does not fit: its format, its schema, then
 * what a schema cannot say (the clusters' directory names, each context once, in the waves once, a record each).
 */
export function checkFleetState(raw: unknown, file: string): FleetState {
  const source = {
    where: `${file} does not fit the fleet record's schema`,
    fix: 'The record was changed or damaged, so --resume will not trust it and nothing was run. Each cluster can still be resumed on its own: kubectl nsm-upgrade --resume DIR/<cluster>.',
  };
  checkVersion(
    raw,
    'format',
    fleetStateFormat,
    source,
    (v) => `format ${String(v)}, this version reads format ${fleetStateFormat}`,
  );
  const state = checkShape(fleetStateSchema, raw, source);
  const clusters = state.spec.clusters;
  // Directory names are what this version would give these contexts: nothing else (no "..", no "/").
  const dirs = clusterDirNames(clusters.map((c) => c.context));
  clusters.forEach((c, i) => {
    if (c.dir !== dirs[i])
      throw badDocument(source, `/spec/clusters/${i}/dir is ${JSON.stringify(c.dir)}, not ${JSON.stringify(dirs[i])}`);
  });
  const contexts = new Set(clusters.map((c) => c.context));
  if (contexts.size !== clusters.length) throw badDocument(source, 'a context is named twice');
  const inWaves = state.waves.flat();
  if (!inWaves.every((c) => contexts.has(c)) || new Set(inWaves).size !== inWaves.length)
    throw badDocument(source, 'waves must list contexts of the fleet, each once');
  for (const c of contexts)
    if (!state.clusters[c]) throw badDocument(source, `clusters has no record of ${JSON.stringify(c)}`);
  if (Object.keys(state.clusters).some((c) => !contexts.has(c)))
    throw badDocument(source, 'clusters names a context the spec does not have');
  return state;
}

/** Reads and checks `<dir>/fleet.json` (see the header). */
export async function readFleetState(fs: Fs, dir: string): Promise<FleetState> {
  const file = path.join(dir, fleetStateFile);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `no fleet record at ${file}`,
      'Pass the fleet directory that the interrupted fleet printed to fleet --resume.',
    );
  }
  await checkOwnedPrivate(fs, dir, 'fleet directory');
  await checkOwnedPrivate(fs, file, 'fleet record');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(
      `${file} is not valid JSON`,
      'The fleet record is damaged; each cluster can still be resumed on its own: kubectl nsm-upgrade --resume DIR/<cluster>.',
    );
  }
  return checkFleetState(raw, file);
}

/** A chart reference a resume may pass on as it is: a repository's ("repo/chart") or an OCI one. */
const chartReference = /^(oci:\/\/[^\s]+|[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)$/;

/** Pure: why a path the record names cannot be used as it stands, or undefined (a bare command name is found on PATH, as on the first run). */
export function recordedPathProblem(p: string, kind: 'command' | 'file' | 'chart'): string | undefined {
  if (kind === 'command' && !p.includes('/')) return undefined;
  if (kind === 'chart' && !path.isAbsolute(p))
    return chartReference.test(p)
      ? undefined
      : 'is neither an absolute path nor a chart repository reference (repo/chart, oci://...)';
  if (!path.isAbsolute(p)) return 'is not an absolute path (its meaning would depend on where the resume starts)';
  if (path.normalize(p).replace(/\/$/, '') !== p.replace(/\/$/, '') || p.split('/').includes('..'))
    return 'is not a plain absolute path (no "..", "." or "//")';
  return undefined;
}

/** A recorded path that is used: the user's (or root's), writable by nobody else; for a directory of binaries, every file in it too. */
async function checkPrivatePath(fs: Fs, p: string, what: string, kind: 'command' | 'file' | 'chart'): Promise<void> {
  const st = await fs.stat(p);
  if (kind === 'file' && !st.isFile()) throw new UsageError(`${what} ${p} is not a file`);
  await checkOwnedPrivate(fs, p, what);
  if (kind === 'command' && st.isDirectory()) {
    for (const e of await fs.readdir(p, { recursive: true }))
      await checkOwnedPrivate(fs, path.join(p, String(e)), what);
  }
}

/**
 * The paths a resumed fleet would execute (binaries), read as a kubeconfig (which can run a
 * credential plugin) or install (a local chart), for the clusters still to run: each must be a
 * plain absolute path (no "..") to something the user (or root) owns that nobody else can write; a
 * binary may also be a bare name (found on PATH), a chart a repository reference. Paths given
 * again on the command line are not checked here.
 */
export async function checkRecordedPaths(fs: Fs, clusters: readonly FleetCluster[]): Promise<void> {
  for (const c of clusters) {
    const named: [string, string | undefined, 'command' | 'file' | 'chart'][] = [
      ...c.meshctl.map((m) => ['--meshctl', m, 'command'] as [string, string, 'command']),
      ['--meshctl-current', c.meshctlCurrent, 'command'],
      ['--helm', c.helm, 'command'],
      ['--kubeconfig', c.kubeconfig, 'file'],
      ['--chart', c.chart, 'chart'],
    ];
    for (const [flag, p, kind] of named) {
      if (p === undefined) continue;
      const what = `${flag} of ${c.context}`;
      const problem = recordedPathProblem(p, kind);
      try {
        if (problem) throw new UsageError(`${what} ${JSON.stringify(p)} ${problem}`);
        if (kind === 'command' && !p.includes('/')) continue;
        if (kind === 'chart' && !path.isAbsolute(p)) continue;
        await checkPrivatePath(fs, p, what, kind);
      } catch (err) {
        const why =
          err instanceof UsageError
            ? (err as Error).message.replace(/: --resume will not run what it names$/, '')
            : `${what} ${p}: ${(err as Error).message}`;
        throw new UsageError(
          `the fleet record names ${why}`,
          'Give the clusters again with the fleet --resume (--fleet FILE or --contexts with the flags): what they name is used instead.',
        );
      }
    }
  }
}

/**
 * The waves of a resumed fleet, built again from its clusters and --max-parallel as the fresh fleet
 * built them, never read from the record: the canary (--canary, else the first cluster neither left
 * out nor already on the target when the fleet started) alone, then the others of those, in the
 * fleet's order, at most maxParallel at a time. Pure; planFleet leaves out what is done since.
 */
export function rebuildWaves(state: Pick<FleetState, 'spec' | 'clusters'>): {
  canary: string | undefined;
  waves: string[][];
} {
  const counted = state.spec.clusters
    .map((c) => c.context)
    .filter((c) => !['skipped', 'up-to-date'].includes(state.clusters[c]?.status ?? ''));
  const canary = state.spec.canary ?? counted[0];
  const rest = counted.filter((c) => c !== canary);
  const waves: string[][] = canary !== undefined && state.clusters[canary]?.status !== 'skipped' ? [[canary]] : [];
  for (let i = 0; i < rest.length; i += state.spec.maxParallel) waves.push(rest.slice(i, i + state.spec.maxParallel));
  return { canary, waves };
}
