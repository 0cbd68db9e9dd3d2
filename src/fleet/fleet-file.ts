/**
 * The fleet's clusters, from `--contexts a,b,c` or from a fleet file (`--fleet FILE`):
 *
 *   to: 2.0.0                    # optional; --to must agree when both are given
 *   canary: staging              # optional; --canary must agree
 *   maxParallel: 2               # optional; --max-parallel must agree
 *   clusters:
 *     - context: staging         # required, unique
 *       kubeconfig: ./staging.kubeconfig
 *       meshNamespace: nginx-mesh
 *       method: meshctl          # auto | meshctl | helm
 *       strategy: auto           # auto | in-place | manual
 *       meshctl: [./bin/nginx-meshctl-2.0.0]   # one path or a list, as --meshctl
 *       meshctlCurrent: ./bin/nginx-meshctl-1.7.0
 *       helm: /usr/local/bin/helm
 *       release: nsm
 *       chart: nginx-stable/nginx-service-mesh
 *
 * Parsed as hostile input (no anchors, aliases or tags; unknown keys refused). Relative paths are
 * relative to the file. The flags (--mesh-namespace, --meshctl, --helm, ...) are every cluster's
 * defaults; a cluster's own entry wins. Everything here is pure.
 */
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { parseDocumentsSafe } from '../backup/yaml.ts';
import { badDocument, checkShape, type JSONSchemaType } from '../schema/validate.ts';
import { normalizeVersion } from '../version-compare.ts';
import type { FleetCluster, FleetSpec } from './types.ts';

/** What every cluster gets unless its fleet-file entry says otherwise (the command line's flags). */
export type ClusterDefaults = Omit<FleetCluster, 'context' | 'dir'>;

/** What the command line says about the fleet itself. */
export interface FleetFlags {
  to?: string | undefined;
  canary?: string | undefined;
  maxParallel?: number | undefined;
}

/** Names in the fleet directory that are not a cluster's. */
const reserved = new Set(['fleet.json', 'logs']);

/** A fleet file's content: to, canary, maxParallel, and each cluster's own settings (paths made absolute). */
export interface FleetFile {
  to?: string | undefined;
  canary?: string | undefined;
  maxParallel?: number | undefined;
  clusters: (Partial<ClusterDefaults> & { context: string })[];
}

/** A fleet file as written: what its schema checks (a key without a value is as if it were not there). */
type FleetFileEntry = Omit<FleetFile['clusters'][number], 'meshctl'> & { meshctl?: string | string[] | undefined };
interface WrittenFleetFile {
  to?: string | number | undefined;
  canary?: string | undefined;
  maxParallel?: number | undefined;
  clusters: FleetFileEntry[];
}

const nonEmpty = { type: 'string', minLength: 1, description: 'a non-empty string' } as const;
const optional = { ...nonEmpty, nullable: true } as const;
/** What a fleet file's entry and a fleet record's (fleet/state.ts) may say of a cluster. */
export const clusterProperties = {
  context: nonEmpty,
  kubeconfig: optional,
  meshNamespace: optional,
  method: { type: 'string', enum: ['auto', 'meshctl', 'helm'], nullable: true },
  strategy: { type: 'string', enum: ['auto', 'in-place', 'manual'], nullable: true },
  meshctlCurrent: optional,
  helm: optional,
  release: optional,
  chart: optional,
} as const;
export const maxParallelSchema = { type: 'integer', minimum: 1, description: 'a whole number of at least 1' } as const;

const fleetFileSchema: JSONSchemaType<WrittenFleetFile> = {
  type: 'object',
  description: 'a map with clusters: [{context: NAME, ...}]',
  properties: {
    to: { type: ['string', 'number'], nullable: true },
    canary: optional,
    maxParallel: { ...maxParallelSchema, nullable: true },
    clusters: {
      type: 'array',
      minItems: 1,
      description: 'a non-empty list of clusters ({context: NAME, ...})',
      items: {
        type: 'object',
        // One path or a list of them, as --meshctl.
        properties: {
          ...clusterProperties,
          meshctl: {
            anyOf: [nonEmpty, { type: 'array', items: nonEmpty }],
            description: 'a path or a list of paths',
            nullable: true,
          },
        },
        required: ['context'],
        additionalProperties: false,
      },
    },
  },
  required: ['clusters'],
  additionalProperties: false,
};

/** A path in the file: relative to the file; a bare command name (no /) stays as it is (found on PATH). */
function filePath(base: string, p: string | undefined, command: boolean): string | undefined {
  if (p === undefined || (command && !p.includes('/'))) return p;
  return path.resolve(base, p);
}

/** A key without a value (`kubeconfig:` in YAML is null) is as if it were not there, in the file's map and in each cluster's. */
function withoutEmptyKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutEmptyKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, withoutEmptyKeys(x)]),
  );
}

export function parseFleetFile(text: string, file: string): FleetFile {
  const source = {
    where: file,
    fix: 'See "The fleet file" in docs/fleets.md: a map with clusters: [{context: NAME, ...}] and optional to, canary, maxParallel.',
  };
  let docs: unknown[];
  try {
    docs = parseDocumentsSafe(text, file);
  } catch (err) {
    throw badDocument(source, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (docs.length !== 1) throw badDocument(source, `expected one YAML map, not ${docs.length} documents`);
  const doc = checkShape(fleetFileSchema, withoutEmptyKeys(docs[0]), source);
  const base = path.dirname(path.resolve(file));
  const clusters = doc.clusters.map(({ meshctl, ...e }) => ({
    ...e,
    kubeconfig: filePath(base, e.kubeconfig, false),
    meshctl:
      meshctl === undefined
        ? undefined
        : (Array.isArray(meshctl) ? meshctl : [meshctl]).map((m) => filePath(base, m, true)!),
    meshctlCurrent: filePath(base, e.meshctlCurrent, true),
    helm: filePath(base, e.helm, true),
    // A repository reference ("nginx-stable/nginx-service-mesh") unless it starts with ./, ../ or /.
    chart: e.chart !== undefined && /^(\.{1,2})?\//.test(e.chart) ? filePath(base, e.chart, false) : e.chart,
  }));
  return {
    to: doc.to === undefined ? undefined : String(doc.to),
    canary: doc.canary,
    maxParallel: doc.maxParallel,
    clusters,
  };
}

/**
 * Each cluster's directory name in the fleet directory: the context with every character other than
 * letters, digits, '.', '_' and '-' made '_' (no leading dot), unique (`-2`, `-3`, ... on a clash).
 */
export function clusterDirNames(contexts: readonly string[]): string[] {
  const taken = new Set(reserved);
  return contexts.map((c) => {
    const base = (
      c.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length)) || 'cluster'
    ).slice(0, 100);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    return name;
  });
}

/** A flag and the fleet file (or a resumed fleet's record, `source`) both saying something: they must agree. */
export function agree<T>(
  flag: string,
  given: T | undefined,
  other: T | undefined,
  opts: { source?: string; same?: (a: T, b: T) => boolean } = {},
): T | undefined {
  const same = opts.same ?? ((a: T, b: T) => a === b);
  if (given !== undefined && other !== undefined && !same(given, other)) {
    throw new UsageError(
      `${flag} ${String(given)} contradicts ${opts.source ?? 'the fleet file'}, which has ${String(other)}`,
      `Drop ${flag}${opts.source ? '' : ', or change the fleet file'}.`,
    );
  }
  return given ?? other;
}

/** The fleet: from --contexts (every cluster with the defaults) or a fleet file (its entries over the defaults). */
export function fleetSpec(
  source: { contexts?: readonly string[] | undefined; file?: FleetFile | undefined },
  defaults: ClusterDefaults,
  flags: FleetFlags,
): FleetSpec {
  if (source.contexts?.length && source.file)
    throw new UsageError('--contexts and --fleet both name the clusters', 'Pass one of them.');
  const entries: FleetFile['clusters'] =
    source.file?.clusters ?? (source.contexts ?? []).map((context) => ({ context }));
  if (!entries.length) throw new UsageError('fleet needs clusters', 'Pass --contexts a,b,c or --fleet FILE.');
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.context.trim() || /[\s\x00-\x1f]/.test(e.context))
      throw new UsageError(
        `context ${JSON.stringify(e.context)} is not a context name`,
        'Name the kubeconfig contexts as `kubectl config get-contexts` lists them.',
      );
    if (seen.has(e.context)) throw new UsageError(`context ${e.context} is named twice`, 'Name each cluster once.');
    seen.add(e.context);
  }
  const to = agree('--to', flags.to, source.file?.to, { same: (a, b) => normalizeVersion(a) === normalizeVersion(b) });
  if (!to)
    throw new UsageError('fleet needs a target version', 'Pass --to VERSION (or put to: VERSION in the fleet file).');
  const canary = agree('--canary', flags.canary, source.file?.canary);
  if (canary !== undefined && !seen.has(canary))
    throw new UsageError(`--canary ${canary} is not a cluster of the fleet`, `Pass one of: ${[...seen].join(', ')}.`);
  const maxParallel = agree('--max-parallel', flags.maxParallel, source.file?.maxParallel) ?? 1;
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64)
    throw new UsageError(`--max-parallel ${maxParallel} is out of range`, 'Use a whole number from 1 to 64.');
  const dirs = clusterDirNames(entries.map((e) => e.context));
  const clusters = entries.map((e, i): FleetCluster => {
    const own = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Partial<FleetCluster>;
    return { ...defaults, ...own, context: e.context, dir: dirs[i]! };
  });
  return { to, clusters, canary, maxParallel };
}
