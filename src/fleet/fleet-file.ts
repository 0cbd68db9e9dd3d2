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

const methods = ['auto', 'meshctl', 'helm'] as const;
const strategies = ['auto', 'in-place', 'manual'] as const;
const clusterKeys = ['context', 'kubeconfig', 'meshNamespace', 'method', 'strategy', 'meshctl', 'meshctlCurrent', 'helm', 'release', 'chart'] as const;
const topKeys = ['to', 'canary', 'maxParallel', 'clusters'] as const;
/** Names in the fleet directory that are not a cluster's. */
const reserved = new Set(['fleet.json', 'logs']);

function bad(file: string, what: string): UsageError {
  return new UsageError(`${file}: ${what}`, 'See "The fleet file" in the README: a map with clusters: [{context: NAME, ...}] and optional to, canary, maxParallel.');
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(file: string, where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length) throw bad(file, `${where} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
}

function str(file: string, where: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw bad(file, `${where} must be a non-empty string`);
  return v;
}

function oneOf<T extends string>(file: string, where: string, v: unknown, allowed: readonly T[]): T | undefined {
  const s = str(file, where, v);
  if (s !== undefined && !allowed.includes(s as T)) throw bad(file, `${where} is ${JSON.stringify(s)}, not one of ${allowed.join(', ')}`);
  return s as T | undefined;
}

/** A fleet file's content: to, canary, maxParallel, and each cluster's own settings (paths made absolute). */
export interface FleetFile {
  to?: string | undefined;
  canary?: string | undefined;
  maxParallel?: number | undefined;
  clusters: (Partial<ClusterDefaults> & { context: string })[];
}

/** A path in the file: relative to the file; a bare command name (no /) stays as it is (found on PATH). */
function filePath(base: string | undefined, p: string | undefined, command: boolean): string | undefined {
  if (p === undefined || base === undefined || (command && !p.includes('/'))) return p;
  return path.resolve(base, p);
}

/**
 * One cluster's entry, checked: a fleet file's (paths made absolute from `base`, the file's
 * directory) or, `complete`, a fleet record's (every setting present).
 */
export function checkClusterEntry(file: string, where: string, entry: unknown, opts: { base?: string; complete?: boolean }): FleetFile['clusters'][number] {
  if (!isMap(entry)) throw bad(file, `${where} must be a map with a context`);
  onlyKeys(file, where, entry, clusterKeys);
  const context = str(file, `${where}.context`, entry.context);
  if (!context) throw bad(file, `${where}.context is required`);
  const meshctl = entry.meshctl;
  if (opts.complete && (!Array.isArray(meshctl) || !str(file, `${where}.meshNamespace`, entry.meshNamespace) || !entry.method || !entry.strategy)) {
    throw bad(file, `${where} lacks meshNamespace, method, strategy or meshctl`);
  }
  const meshctlList = meshctl === undefined || meshctl === null ? undefined : (Array.isArray(meshctl) ? meshctl : [meshctl]).map((m, j) => str(file, `${where}.meshctl[${j}]`, m)!);
  const chart = str(file, `${where}.chart`, entry.chart);
  return {
    context,
    kubeconfig: filePath(opts.base, str(file, `${where}.kubeconfig`, entry.kubeconfig), false),
    meshNamespace: str(file, `${where}.meshNamespace`, entry.meshNamespace),
    method: oneOf(file, `${where}.method`, entry.method, methods),
    strategy: oneOf(file, `${where}.strategy`, entry.strategy, strategies),
    meshctl: meshctlList?.map((m) => filePath(opts.base, m, true)!),
    meshctlCurrent: filePath(opts.base, str(file, `${where}.meshctlCurrent`, entry.meshctlCurrent), true),
    helm: filePath(opts.base, str(file, `${where}.helm`, entry.helm), true),
    release: str(file, `${where}.release`, entry.release),
    // A repository reference ("nginx-stable/nginx-service-mesh") unless it starts with ./, ../ or /.
    chart: chart !== undefined && /^(\.{1,2})?\//.test(chart) ? filePath(opts.base, chart, false) : chart,
  };
}

export function parseFleetFile(text: string, file: string): FleetFile {
  let docs: unknown[];
  try {
    docs = parseDocumentsSafe(text, file);
  } catch (err) {
    throw bad(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (docs.length !== 1 || !isMap(docs[0])) throw bad(file, 'expected one YAML map');
  const doc = docs[0];
  onlyKeys(file, 'the file', doc, topKeys);
  if (!Array.isArray(doc.clusters) || doc.clusters.length === 0) throw bad(file, 'clusters must be a non-empty list');
  const base = path.dirname(path.resolve(file));
  const clusters = doc.clusters.map((entry: unknown, i: number) => checkClusterEntry(file, `clusters[${i}]`, entry, { base }));
  const maxParallel = doc.maxParallel;
  if (maxParallel !== undefined && (typeof maxParallel !== 'number' || !Number.isInteger(maxParallel) || maxParallel < 1)) throw bad(file, 'maxParallel must be a whole number of at least 1');
  return { to: doc.to === undefined ? undefined : String(doc.to), canary: str(file, 'canary', doc.canary), maxParallel, clusters };
}

/**
 * Each cluster's directory name in the fleet directory: the context with every character other than
 * letters, digits, '.', '_' and '-' made '_' (no leading dot), unique (`-2`, `-3`, ... on a clash).
 */
export function clusterDirNames(contexts: readonly string[]): string[] {
  const taken = new Set(reserved);
  return contexts.map((c) => {
    const base = (c.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length)) || 'cluster').slice(0, 100);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    return name;
  });
}

/** A flag and the fleet file (or a resumed fleet's record, `source`) both saying something: they must agree. */
export function agree<T>(flag: string, given: T | undefined, other: T | undefined, opts: { source?: string; same?: (a: T, b: T) => boolean } = {}): T | undefined {
  const same = opts.same ?? ((a: T, b: T) => a === b);
  if (given !== undefined && other !== undefined && !same(given, other)) {
    throw new UsageError(`${flag} ${String(given)} contradicts ${opts.source ?? 'the fleet file'}, which has ${String(other)}`, `Drop ${flag}${opts.source ? '' : ', or change the fleet file'}.`);
  }
  return given ?? other;
}

/** The fleet: from --contexts (every cluster with the defaults) or a fleet file (its entries over the defaults). */
export function fleetSpec(source: { contexts?: readonly string[] | undefined; file?: FleetFile | undefined }, defaults: ClusterDefaults, flags: FleetFlags): FleetSpec {
  if (source.contexts?.length && source.file) throw new UsageError('--contexts and --fleet both name the clusters', 'Pass one of them.');
  const entries: FleetFile['clusters'] = source.file?.clusters ?? (source.contexts ?? []).map((context) => ({ context }));
  if (!entries.length) throw new UsageError('fleet needs clusters', 'Pass --contexts a,b,c or --fleet FILE.');
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.context.trim() || /[\s\x00-\x1f]/.test(e.context)) throw new UsageError(`context ${JSON.stringify(e.context)} is not a context name`, 'Name the kubeconfig contexts as `kubectl config get-contexts` lists them.');
    if (seen.has(e.context)) throw new UsageError(`context ${e.context} is named twice`, 'Name each cluster once.');
    seen.add(e.context);
  }
  const to = agree('--to', flags.to, source.file?.to, { same: (a, b) => normalizeVersion(a) === normalizeVersion(b) });
  if (!to) throw new UsageError('fleet needs a target version', 'Pass --to VERSION (or put to: VERSION in the fleet file).');
  const canary = agree('--canary', flags.canary, source.file?.canary);
  if (canary !== undefined && !seen.has(canary)) throw new UsageError(`--canary ${canary} is not a cluster of the fleet`, `Pass one of: ${[...seen].join(', ')}.`);
  const maxParallel = agree('--max-parallel', flags.maxParallel, source.file?.maxParallel) ?? 1;
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 64) throw new UsageError(`--max-parallel ${maxParallel} is out of range`, 'Use a whole number from 1 to 64.');
  const dirs = clusterDirNames(entries.map((e) => e.context));
  const clusters = entries.map((e, i): FleetCluster => {
    const own = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Partial<FleetCluster>;
    return { ...defaults, ...own, context: e.context, dir: dirs[i]! };
  });
  return { to, clusters, canary, maxParallel };
}
