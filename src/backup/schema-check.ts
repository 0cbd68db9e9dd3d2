/**
 * A backed-up object against the CRDs of the version it goes to, as the API server will treat it
 * (k8s.io/apiextensions-apiserver, structural schemas):
 * 1. the version: written with its own version when the target serves it, else converted to the
 *    target's storage version (strategy None: only apiVersion changes) and reported;
 * 2. pruning: fields the schema does not declare are dropped, except under
 *    x-kubernetes-preserve-unknown-fields (and apiVersion, kind, metadata at the root and in
 *    x-kubernetes-embedded-resource); a null where the schema is not nullable is dropped too;
 * 3. defaults: a missing field whose schema has a default gets it;
 * 4. validation of what is left, by Ajv (a JSON Schema validator) on the schema translated from
 *    OpenAPI v3 (x-kubernetes-int-or-string as anyOf integer/string, boolean exclusiveMinimum).
 * Verdict per object: valid; pruned (data loss: the paths); rejected (path and rule). Pure.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { KubeObject } from '../kube/client.ts';
import type { CrdData, CrdVersionData } from '../mesh/crd-schemas.ts';

type Schema = Record<string, unknown>;

export interface SchemaCheck {
  kind: string;
  namespace: string;
  name: string;
  /** The object's apiVersion in the backup. */
  apiVersion: string;
  /** The apiVersion the target is written with. */
  writtenAs: string;
  /** Set when the object's version is not served by the target: converted to its storage version. */
  converted?: { from: string; to: string };
  /** Fields the target's schema does not declare: dropped by the API server (data loss). */
  pruned: string[];
  /** Fields the target fills with its schema's default. */
  defaulted: string[];
  /** What the API server would refuse, by path and rule. */
  rejected: { path: string; rule: string }[];
  verdict: 'valid' | 'pruned' | 'rejected';
  /** The object as the API server would store it (pruned and defaulted), for the tests that compare. */
  result: KubeObject;
}

const ajv = new Ajv({
  allErrors: true,
  strict: false,
  logger: false,
  formats: {
    int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
    int64: { type: 'number', validate: (n: number) => Number.isInteger(n) },
    float: { type: 'number', validate: () => true },
    double: { type: 'number', validate: () => true },
  },
});

const ajvKeywords = new Set([
  'type',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'format',
  'nullable',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
]);

/** OpenAPI v3 (as CRDs use it) to a schema Ajv reads. */
export function toJsonSchema(s: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (!ajvKeywords.has(k)) continue;
    if (k === 'properties')
      out[k] = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, toJsonSchema(ps)]));
    else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object'))
      out[k] = toJsonSchema(v as Schema);
    else if (k === 'anyOf' || k === 'allOf' || k === 'oneOf') out[k] = (v as Schema[]).map(toJsonSchema);
    else if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'boolean') {
      if (v) out[k] = s[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
    } else out[k] = v;
  }
  if (s.exclusiveMinimum === true) delete out.minimum;
  if (s.exclusiveMaximum === true) delete out.maximum;
  if (s['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  // The API server checks the root's apiVersion, kind and metadata itself.
  return out;
}

const compiled = new WeakMap<Schema, ValidateFunction>();
function validatorFor(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    const root = toJsonSchema(schema);
    if (root.properties)
      for (const k of ['apiVersion', 'kind', 'metadata']) delete (root.properties as Record<string, unknown>)[k];
    v = ajv.compile(root);
    compiled.set(schema, v);
  }
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** Prunes and defaults `value` in place by `schema`, recording what it dropped and filled. */
function pruneAndDefault(
  value: unknown,
  schema: Schema,
  path: string,
  pruned: string[],
  defaulted: string[],
  root = false,
): void {
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    if (items) value.forEach((v, i) => pruneAndDefault(v, items, join(path, i), pruned, defaulted));
    return;
  }
  if (!isObject(value)) return;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const additional = isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(value)) {
    const sub = props[key] ?? additional;
    if ((root || embedded) && ['apiVersion', 'kind', 'metadata'].includes(key)) continue;
    if (!sub) {
      if (!preserve) {
        pruned.push(join(path, key));
        delete value[key];
      }
      continue;
    }
    if (value[key] === null && sub.nullable !== true) {
      delete value[key];
      continue;
    }
    pruneAndDefault(value[key], sub, join(path, key), pruned, defaulted);
  }
  for (const [key, sub] of Object.entries(props)) {
    if (value[key] !== undefined || sub.default === undefined) continue;
    value[key] = structuredClone(sub.default);
    defaulted.push(join(path, key));
    pruneAndDefault(value[key], sub, join(path, key), pruned, defaulted);
  }
}

/** "/spec/sources/0/name" -> "spec.sources[0].name". */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((acc, p) => join(acc, /^\d+$/.test(p) ? Number(p) : p), '');
}

/** One Ajv error as the API server words the rule (path of the field, the rule it breaks). */
export function describeError(e: ErrorObject): { path: string; rule: string } {
  const path = fieldPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: join(path, String(p.missingProperty)), rule: 'Required value' };
    case 'type':
      return { path, rule: `must be of type ${String(p.type)}` };
    case 'enum':
      return { path, rule: `Unsupported value: must be one of ${JSON.stringify(p.allowedValues)}` };
    case 'pattern':
      return { path, rule: `should match '${String(p.pattern)}'` };
    case 'anyOf':
      return { path, rule: 'must be an integer or a string (x-kubernetes-int-or-string)' };
    default:
      return { path, rule: `${e.keyword}: ${e.message ?? ''}`.trim() };
  }
}

/** The version an object is written with on the target: its own when served, else the storage version. */
function versionOnTarget(crd: CrdData, version: string): { target: CrdVersionData | undefined; converted: boolean } {
  const own = crd.versions.find((v) => v.name === version && v.served);
  if (own) return { target: own, converted: false };
  return {
    target: crd.versions.find((v) => v.storage && v.served) ?? crd.versions.find((v) => v.served),
    converted: true,
  };
}

/** Checks one object against the target's CRDs. */
export function checkObject(obj: KubeObject, crds: readonly CrdData[]): SchemaCheck {
  const [group, version] = (obj.apiVersion ?? '').includes('/')
    ? ((obj.apiVersion as string).split('/') as [string, string])
    : ['', obj.apiVersion ?? ''];
  const base = {
    kind: obj.kind ?? '?',
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    apiVersion: obj.apiVersion ?? '',
    pruned: [],
    defaulted: [],
  };
  const crd = crds.find((c) => c.group === group && c.kind === obj.kind);
  const { target, converted } = crd ? versionOnTarget(crd, version) : { target: undefined, converted: false };
  if (!crd || !target) {
    return {
      ...base,
      writtenAs: obj.apiVersion ?? '',
      rejected: [
        { path: 'apiVersion', rule: `the target defines no ${obj.kind} in ${group}${crd ? ' that it serves' : ''}` },
      ],
      verdict: 'rejected',
      result: obj,
    };
  }
  const writtenAs = `${group}/${target.name}`;
  const result = { ...structuredClone(obj), apiVersion: writtenAs };
  const pruned: string[] = [];
  const defaulted: string[] = [];
  pruneAndDefault(result, target.schema, '', pruned, defaulted, true);
  const validate = validatorFor(target.schema);
  const rejected = validate(result)
    ? []
    : dedupe((validate.errors ?? []).filter((e) => e.keyword !== 'if').map(describeError));
  return {
    ...base,
    writtenAs,
    ...(converted ? { converted: { from: version, to: target.name } } : {}),
    pruned,
    defaulted,
    rejected,
    verdict: rejected.length ? 'rejected' : pruned.length ? 'pruned' : 'valid',
    result,
  };
}

function dedupe(list: { path: string; rule: string }[]): { path: string; rule: string }[] {
  // anyOf reports its branches too: keep the anyOf line for a path, not its "must be of type" parts.
  const anyOfPaths = new Set(
    list.filter((e) => e.rule.startsWith('must be an integer or a string')).map((e) => e.path),
  );
  const seen = new Set<string>();
  return list
    .filter((e) => !(anyOfPaths.has(e.path) && e.rule.startsWith('must be of type')))
    .filter((e) => {
      const k = `${e.path}\0${e.rule}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

/** One line for a report: the verdict and what it is about. */
export function describeCheck(c: SchemaCheck): string {
  const who = `${c.kind} ${c.namespace}/${c.name}`;
  const conv = c.converted ? ` (converted ${c.converted.from} -> ${c.converted.to})` : '';
  if (c.verdict === 'rejected')
    return `${who}${conv}: rejected: ${c.rejected.map((r) => `${r.path}: ${r.rule}`).join('; ')}`;
  if (c.verdict === 'pruned') return `${who}${conv}: would lose ${c.pruned.join(', ')} (not in the target's schema)`;
  return `${who}${conv}: valid`;
}
