/**
 * The CRDs of each mesh version the tool supports, shipped as data (crd-schemas/<version>.json,
 * generated from the public charts by scripts/gen-crd-schemas.ts). The backup's schema check
 * (backup/schema-check.ts) validates objects against the target version's.
 */
import v150 from './crd-schemas/1.5.0.json' with { type: 'json' };
import v160 from './crd-schemas/1.6.0.json' with { type: 'json' };
import v170 from './crd-schemas/1.7.0.json' with { type: 'json' };
import v200 from './crd-schemas/2.0.0.json' with { type: 'json' };
import { normalizeVersion } from '../version-compare.ts';

export interface CrdVersionData {
  name: string;
  served: boolean;
  storage: boolean;
  /** openAPIV3Schema, descriptions left out. */
  schema: Record<string, unknown>;
}

export interface CrdData {
  /** <plural>.<group> */
  name: string;
  group: string;
  kind: string;
  plural: string;
  scope: string;
  /** spec.conversion.strategy: None (the API server only rewrites apiVersion) or Webhook. */
  conversion: string;
  versions: CrdVersionData[];
}

export interface CrdSchemaFile {
  version: string;
  source: string;
  crds: CrdData[];
}

const shipped: Record<string, CrdSchemaFile> = Object.fromEntries(
  ([v150, v160, v170, v200] as CrdSchemaFile[]).map((f) => [f.version, f]),
);

/** The CRDs of a mesh version, or undefined when the tool ships none for it. */
export function crdsForVersion(version: string): CrdData[] | undefined {
  const v = normalizeVersion(version);
  return v ? shipped[v]?.crds : undefined;
}

/** The versions the tool ships CRDs for. */
export const shippedCrdVersions: readonly string[] = Object.keys(shipped);
