/**
 * The backup manifest (manifest.json, DESIGN.md "Backup directory"): what was backed up, from
 * where, and a sha256 and object count per file. `parseManifest` validates an untrusted
 * manifest's shape and every path it names; it is pure and throws UsageError naming the problem.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { catalog, resourceName, type CatalogKind } from '../mesh/catalog.ts';

export const manifestFormatVersion = 1;

export interface ManifestFile {
  /** Relative to the backup directory: crds.yaml, install.yaml or resources/<plural>.<group>.yaml. */
  path: string;
  /** The catalog kind, or CustomResourceDefinition (crds.yaml), or InstallConfig (install.yaml). */
  kind: string;
  /** For resource files: the group and the version the objects were read with. */
  group?: string;
  version?: string;
  count: number;
  sha256: string;
}

export interface Manifest {
  formatVersion: number;
  toolVersion: string;
  context: string;
  server: string;
  /** The mesh version backed up, when known (Helm release appVersion or --from-version). */
  meshVersion: string | null;
  createdAt: string;
  /** Namespace scope of the backup (-n), or null for all namespaces. */
  namespace: string | null;
  files: ManifestFile[];
  /** Catalog kinds not backed up, and why (CRD absent, no known version served). */
  absent: { kind: string; reason: string }[];
  /** Group versions whose discovery failed during the backup. */
  discoveryFailures: { groupVersion: string; error: string }[];
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function resourceFilePath(k: CatalogKind): string {
  return `resources/${resourceName(k)}.yaml`;
}

/** The catalog row a resource file path belongs to, or undefined. */
export function kindForPath(path: string): CatalogKind | undefined {
  return catalog.find((k) => resourceFilePath(k) === path);
}

function fail(problem: string): never {
  throw new UsageError(`manifest.json: ${problem}`, 'The backup directory is damaged or was edited; restore from an intact backup (the --from flag).');
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates an untrusted manifest. Throws UsageError on anything unexpected. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (err) { fail(`not valid JSON (${(err as Error).message})`); }
  if (!isObj(raw)) fail('not a JSON object');
  if (raw.formatVersion !== manifestFormatVersion) fail(`formatVersion ${JSON.stringify(raw.formatVersion)} is not supported (expected ${manifestFormatVersion})`);
  for (const key of ['toolVersion', 'context', 'server', 'createdAt'] as const) if (typeof raw[key] !== 'string') fail(`field ${key} must be a string`);
  if (raw.meshVersion !== null && typeof raw.meshVersion !== 'string') fail('field meshVersion must be a string or null');
  if (raw.namespace !== null && typeof raw.namespace !== 'string') fail('field namespace must be a string or null');
  if (!Array.isArray(raw.files)) fail('field files must be an array');
  const seen = new Set<string>();
  const files: ManifestFile[] = raw.files.map((f, i): ManifestFile => {
    if (!isObj(f)) fail(`files[${i}] is not an object`);
    const { path, kind, count, sha256: hash } = f;
    if (typeof path !== 'string' || typeof kind !== 'string') fail(`files[${i}] needs string path and kind`);
    if (!Number.isSafeInteger(count) || (count as number) < 0) fail(`files[${i}] (${path}) has an invalid count`);
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) fail(`files[${i}] (${path}) has an invalid sha256`);
    if (seen.has(path)) fail(`file ${path} is listed twice`);
    seen.add(path);
    if (path === 'crds.yaml') { if (kind !== 'CustomResourceDefinition') fail(`crds.yaml must have kind CustomResourceDefinition, not ${kind}`); }
    else if (path === 'install.yaml') { if (kind !== 'InstallConfig') fail(`install.yaml must have kind InstallConfig, not ${kind}`); }
    else {
      const row = kindForPath(path);
      if (!row) fail(`file ${JSON.stringify(path)} is not a catalog resource file (allowed: ${catalog.map(resourceFilePath).join(', ')})`);
      if (row.kind !== kind) fail(`file ${path} must hold kind ${row.kind}, not ${kind}`);
      if (typeof f.version !== 'string' || !row.versions.includes(f.version)) fail(`file ${path} has version ${JSON.stringify(f.version)}; ${row.kind} is served as ${row.versions.join(' or ')}`);
    }
    return { path, kind, count: count as number, sha256: hash, ...(typeof f.group === 'string' ? { group: f.group } : {}), ...(typeof f.version === 'string' ? { version: f.version } : {}) };
  });
  const absent = Array.isArray(raw.absent) ? raw.absent.filter(isObj).map((a) => ({ kind: String(a.kind), reason: String(a.reason) })) : [];
  const discoveryFailures = Array.isArray(raw.discoveryFailures) ? raw.discoveryFailures.filter(isObj).map((a) => ({ groupVersion: String(a.groupVersion), error: String(a.error) })) : [];
  return {
    formatVersion: manifestFormatVersion, toolVersion: raw.toolVersion as string, context: raw.context as string, server: raw.server as string,
    meshVersion: raw.meshVersion as string | null, createdAt: raw.createdAt as string, namespace: raw.namespace as string | null,
    files, absent, discoveryFailures,
  };
}
