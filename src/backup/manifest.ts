/**
 * The backup manifest (manifest.json, ARCHITECTURE.md "The backup directory"): what was backed up, from
 * where, and a sha256 and object count per file. `parseManifest` validates an untrusted
 * manifest's shape and every path it names; it is pure and throws UsageError naming the problem.
 */
import { createHash } from 'node:crypto';
import { badDocument, checkShape, checkVersion, type JSONSchemaType } from '../schema/validate.ts';
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

const text = { type: 'string' } as const;
/** A string, or null when unknown (meshVersion) or not scoped (namespace). */
const textOrNull = { anyOf: [text, { type: 'null', nullable: true }], description: 'a string or null' } as const;

const manifestSchema: JSONSchemaType<Manifest> = {
  type: 'object',
  properties: {
    formatVersion: { type: 'integer' },
    toolVersion: text,
    context: text,
    server: text,
    meshVersion: textOrNull,
    createdAt: text,
    namespace: textOrNull,
    files: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          path: text,
          kind: text,
          group: { type: 'string', nullable: true },
          version: { type: 'string', nullable: true },
          count: { type: 'integer', minimum: 0, description: 'a count (a whole number, 0 or more)' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'a SHA-256 (64 hex digits)' },
        },
        required: ['path', 'kind', 'count', 'sha256'],
      },
    },
    absent: {
      type: 'array',
      items: { type: 'object', properties: { kind: text, reason: text }, required: ['kind', 'reason'] },
    },
    discoveryFailures: {
      type: 'array',
      items: { type: 'object', properties: { groupVersion: text, error: text }, required: ['groupVersion', 'error'] },
    },
  },
  required: [
    'formatVersion',
    'toolVersion',
    'context',
    'server',
    'meshVersion',
    'createdAt',
    'namespace',
    'files',
    'absent',
    'discoveryFailures',
  ],
};

const source = {
  where: 'manifest.json',
  fix: 'The backup directory is damaged or was edited; restore from an intact backup (the --from flag).',
};
const fail = (problem: string) => badDocument(source, problem);

/**
 * Validates an untrusted manifest: its format version, its schema, then what a schema cannot say (each
 * file once, and only crds.yaml, install.yaml or a catalog kind's file, of its kind and a version it is
 * served as). Throws UsageError naming the problem.
 */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw fail(`not valid JSON (${(err as Error).message})`);
  }
  checkVersion(
    raw,
    'formatVersion',
    manifestFormatVersion,
    source,
    (v) => `formatVersion ${JSON.stringify(v)} is not supported (expected ${manifestFormatVersion})`,
  );
  const manifest = checkShape(manifestSchema, raw, source);
  const seen = new Set<string>();
  for (const { path, kind, version } of manifest.files) {
    if (seen.has(path)) throw fail(`file ${path} is listed twice`);
    seen.add(path);
    if (path === 'crds.yaml') {
      if (kind !== 'CustomResourceDefinition')
        throw fail(`crds.yaml must have kind CustomResourceDefinition, not ${kind}`);
    } else if (path === 'install.yaml') {
      if (kind !== 'InstallConfig') throw fail(`install.yaml must have kind InstallConfig, not ${kind}`);
    } else {
      const row = kindForPath(path);
      if (!row)
        throw fail(
          `file ${JSON.stringify(path)} is not a catalog resource file (allowed: ${catalog.map(resourceFilePath).join(', ')})`,
        );
      if (row.kind !== kind) throw fail(`file ${path} must hold kind ${row.kind}, not ${kind}`);
      if (version === undefined || !row.versions.includes(version))
        throw fail(
          `file ${path} has version ${JSON.stringify(version)}; ${row.kind} is served as ${row.versions.join(' or ')}`,
        );
    }
  }
  return manifest;
}
