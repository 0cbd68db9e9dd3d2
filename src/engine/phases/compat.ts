/**
 * Can the old mesh hold what the cluster has now? Pure checks behind the rollback's refusals and
 * its choice of path:
 * - crdDifferences: the mesh CRDs now against the backup's crds.yaml (a Helm rollback is only
 *   taken when there is none: Helm does not put CRDs back);
 * - unknownFields: the fields of an object the old CRD's schema has no place for (a create with
 *   fieldValidation=Strict would refuse it, so the object would be lost);
 * - meshConfigChanges: what was changed in 2.0's MeshConfig nginx-mesh-config after the hop, split
 *   into settings 1.x has (carried back into the old install) and settings it has not (a refusal).
 */
import type { KubeObject } from '../../kube/client.ts';
import { deploySettings } from '../../controlplane/deploy-flags.ts';
import { meshConfigPaths } from './settings-check.ts';
import { valueAt } from '../../values.ts';
import { jsonEqual } from '../../backup/sanitize.ts';
import { isSecret, markSecrets, revealDeep } from '../../secret.ts';

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Schema };
}
export interface CrdLike extends KubeObject {
  spec?: { group?: string; versions?: CrdVersion[]; [k: string]: unknown };
  status?: { storedVersions?: string[]; conditions?: { type: string; status: string }[] };
}

const versionsText = (c: CrdLike) =>
  (c.spec?.versions ?? [])
    .map((v) => `${v.name}${v.served ? '' : ' (not served)'}${v.storage ? ' (storage)' : ''}`)
    .join(', ');

/** One line per mesh CRD that is not as in the backup: missing, added since, or with another spec. */
export function crdDifferences(live: readonly CrdLike[], backup: readonly CrdLike[]): string[] {
  const out: string[] = [];
  const liveByName = new Map(live.map((c) => [c.metadata?.name ?? '', c]));
  const backupNames = new Set(backup.map((c) => c.metadata?.name ?? ''));
  for (const b of backup) {
    const name = b.metadata?.name ?? '';
    const l = liveByName.get(name);
    if (!l) {
      out.push(`CRD ${name} is missing (the backup has it: ${versionsText(b)})`);
      continue;
    }
    if (jsonEqual(l.spec, b.spec)) continue;
    const lv = versionsText(l);
    const bv = versionsText(b);
    out.push(
      lv === bv
        ? `CRD ${name}: its schema differs from the backup's`
        : `CRD ${name} serves ${lv}; the backup has ${bv}`,
    );
  }
  for (const l of live)
    if (!backupNames.has(l.metadata?.name ?? '')) out.push(`CRD ${l.metadata?.name} was added since the backup`);
  return out.sort();
}

/** The subset of OpenAPI v3 a CRD schema uses that decides which fields an object may carry. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [k: string]: unknown;
}

/**
 * Paths (`spec.matches[0].foo`) of the fields in `value` that `schema` has no place for: what the
 * API server's strict field validation refuses. Only structure is checked, not formats or enums.
 */
export function unknownFields(schema: Schema | undefined, value: unknown, path = ''): string[] {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields'] === true) return [];
  if (Array.isArray(value))
    return schema.items ? value.flatMap((v, i) => unknownFields(schema.items, v, `${path}[${i}]`)) : [];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${k}` : k;
    const prop = schema.properties?.[k];
    if (prop) {
      out.push(...unknownFields(prop, v, at));
      continue;
    }
    const extra = schema.additionalProperties;
    if (extra === true) continue;
    if (extra && typeof extra === 'object') {
      out.push(...unknownFields(extra, v, at));
      continue;
    }
    out.push(at);
  }
  return out;
}

/** Why an object the old CRDs would have to hold cannot be held by them, or undefined when it fits. */
export function whyNotHeld(obj: KubeObject, oldCrd: CrdLike | undefined, version: string): string | undefined {
  if (!oldCrd) return 'its kind has no CRD in the old version';
  const v = oldCrd.spec?.versions?.find((x) => x.name === version);
  if (!v || !v.served) return `the old CRD does not serve ${version} (it serves ${versionsText(oldCrd)})`;
  const body: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(obj))
    if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) body[k] = val;
  const unknown = unknownFields(v.schema?.openAPIV3Schema, body);
  return unknown.length
    ? `the old CRD's schema has no field ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ''}`
    : undefined;
}

/** The 2.0 chart's defaults for the MeshConfig settings (its values.yaml; deploy-flags.ts holds the same). */
function chartDefault(path: string): unknown {
  return deploySettings.find((s) => s.path === path)?.default;
}

const emptyish = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** Loose equality: numbers through float32 (samplerRatio), an empty object as nothing. */
function same(a: unknown, b: unknown): boolean {
  if (emptyish(a) && emptyish(b)) return true;
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-6;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Leaf paths of a MeshConfig spec (objects descended, everything else a leaf). */
function leaves(v: unknown, path = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || (path && Object.keys(v).length === 0))
    return path ? [path] : [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leaves(x, path ? `${path}.${k}` : k));
}

export interface MeshConfigChanges {
  /** Chart value path -> the MeshConfig's value: settings 1.x has, carried back into the old install. */
  carried: Record<string, unknown>;
  /** Settings changed after the hop that 1.x has no setting for: "meshConfigClassName=\"x\"". */
  noSetting: string[];
}

/**
 * What differs in MeshConfig nginx-mesh-config's spec from what the 2.0 chart rendered from the
 * release values (the values, else the chart's defaults): changes made after the hop. The chart
 * copies the settings of meshConfigPaths under the same paths; 1.x has each of them as a chart
 * value. meshConfigClassName (rendered as `<namespace>-meshconfig-class`) and any other field have
 * no 1.x setting.
 */
export function meshConfigChanges(
  spec: Record<string, unknown>,
  releaseValues: Record<string, unknown>,
  meshNamespace: string,
): MeshConfigChanges {
  const carried: Record<string, unknown> = {};
  const noSetting: string[] = [];
  const known = new Set<string>(meshConfigPaths);
  for (const p of meshConfigPaths) {
    const live = valueAt(spec, p);
    const rendered = valueAt(releaseValues, p) ?? chartDefault(p);
    if (!same(live, rendered) && !emptyish(live)) carried[p] = live;
  }
  for (const p of leaves(spec)) {
    if (known.has(p) || [...known].some((k) => p.startsWith(`${k}.`))) continue;
    const v = valueAt(spec, p);
    if (p === 'meshConfigClassName' && v === `${meshNamespace}-meshconfig-class`) continue;
    if (emptyish(v)) continue;
    noSetting.push(`${p}=${JSON.stringify(v)}`);
  }
  return { carried, noSetting };
}

/**
 * One line per leaf of `expected` or `actual` (release values) where they differ: the path and
 * both values, or only the path for a credential. Credentials (Secret) compare by their text.
 */
export function valueDifferences(
  expected: Record<string, unknown>,
  actual: Record<string, unknown>,
  path = '',
): string[] {
  const out: string[] = [];
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const k of keys) {
    const at = path ? `${path}.${k}` : k;
    const e = expected[k];
    const a = actual[k];
    const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && !isSecret(v);
    if (isObj(e) && isObj(a)) {
      out.push(...valueDifferences(e as Record<string, unknown>, a as Record<string, unknown>, at));
      continue;
    }
    if (isSecret(e) || isSecret(a)) {
      if (revealDeep(e) !== revealDeep(a))
        out.push(`${at}: the credential differs from the backup's (values not shown)`);
      continue;
    }
    if (!same(e, a))
      out.push(`${at}: expected ${JSON.stringify(e) ?? 'nothing'}, found ${JSON.stringify(a) ?? 'nothing'}`);
  }
  return out;
}

/**
 * Pure: the revisions among Helm's records of a release that hold the release as backed up (same
 * revision number, chart version and values). After an uninstall and install, revision 1 is
 * another release: rolling back to it would not go back.
 */
export function restorableRevisions(
  records: readonly { revision: number; chart: { version: string }; config: Record<string, unknown> }[],
  backup: {
    release: { revision: number; chartVersion: string | null } | null;
    values: Record<string, unknown> | undefined;
  },
): number[] {
  const b = backup.release;
  if (!b || !backup.values) return [];
  return records
    .filter(
      (r) =>
        r.revision === b.revision &&
        r.chart.version === b.chartVersion &&
        valueDifferences(backup.values!, markSecrets(r.config)).length === 0,
    )
    .map((r) => r.revision);
}
