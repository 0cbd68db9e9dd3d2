/**
 * The one validator of the files the tool reads back: the upgrade's and the rollback's journals
 * (engine/journal.ts), the fleet's record fleet.json (fleet/state.ts), a backup's manifest.json
 * (backup/manifest.ts) and a fleet file (fleet/fleet-file.ts). Each has one schema, a TypeScript
 * const typed with Ajv's JSONSchemaType<T>: a property the type has and the schema lacks (or types
 * otherwise) does not compile, so the type a reader gets and the schema that checks it cannot drift.
 *
 * Ajv (JSON Schema draft-07, the validator the CRD checks use: backup/schema-check.ts) compiles each
 * schema once, when a reader first needs it: --help never loads Ajv (test/unit/core/startup-lazy.test.ts).
 * A problem is a UsageError (exit 2): the file, the JSON pointer of the first problem, what is there
 * and what belongs there, and the reader's fix. Only shapes: what a reader checks beyond a shape (a
 * step of the plan, a file of the catalog, a hash, paths) stays in the reader.
 *
 * An optional property (`x?: T`) is absent, never null: JSON holds no undefined, and a null where
 * the code expects a value or nothing would pass. JSONSchemaType asks `nullable: true` of each such
 * property; it is dropped when the schema is compiled (a type that allows null says so with
 * `{ type: 'null' }` in an anyOf).
 */
import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { UsageError } from '../errors.ts';

export type { JSONSchemaType };

/** Where a document was read from, as its problems are named, and what the user can do about them. */
export interface Source {
  /** Starts the message: "fleet.json", "DIR/journal.ndjson: line 3 does not fit the journal's schema". */
  where: string;
  /** The hint printed under the message. */
  fix: string;
}

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/** A copy of `schema` without `nullable: true` (see the header). */
function absentNotNull(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(absentNotNull);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([k, v]) => !(k === 'nullable' && v === true))
      .map(([k, v]) => [k, absentNotNull(v)]),
  );
}

function validatorFor<T>(schema: JSONSchemaType<T>): ValidateFunction<T> {
  let v = compiled.get(schema);
  if (!v) {
    // strict: a keyword Ajv does not know, or a type it cannot tell, fails the compile (the unit tests compile every schema).
    // The schemas are typed consts, not input: no meta-schema check and no optimizing pass (the journal's compiles in tens of ms less).
    ajv ??= new Ajv({
      strict: true,
      allowUnionTypes: true,
      validateSchema: false,
      code: { optimize: false },
      allErrors: false,
      verbose: true,
      discriminator: true,
    });
    v = ajv.compile(absentNotNull(schema) as object);
    compiled.set(schema, v);
  }
  return v as ValidateFunction<T>;
}

/** What the problem's pointer names: a value shown briefly (never an object's content), or its kind. */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return kindOf(v);
}

const article = (t: string) => `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  return article(typeof v);
}

const pointer = (p: string) => (p === '' ? 'the top level' : p);
const listOf = (values: readonly unknown[]) =>
  values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');

/** The values a discriminated oneOf allows for its tag. */
function tagValues(schema: Record<string, unknown>, tag: string): unknown[] {
  return ((schema.oneOf ?? []) as { properties?: Record<string, { const?: unknown; enum?: unknown[] }> }[]).flatMap(
    (s) => {
      const p = s.properties?.[tag];
      return p?.const !== undefined ? [p.const] : (p?.enum ?? []);
    },
  );
}

/** One Ajv error (verbose: with its data and schema) in words: "/clusters/a/status is \"half\", not one of pending, ...". */
export function describeProblem(e: ErrorObject): string {
  const at = pointer(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${e.instancePath}/${String(p.missingProperty)} is required`;
    case 'additionalProperties': {
      const known = Object.keys(schema.properties ?? {});
      return `${at} has unknown key ${String(p.additionalProperty)} (known: ${known.join(', ')})`;
    }
    case 'discriminator': {
      const tag = String(p.tag);
      if (p.tagValue === undefined) return `${e.instancePath}/${tag} is required`;
      return `${e.instancePath}/${tag} is ${shown(p.tagValue)}, not one of ${listOf(tagValues(schema, tag))}`;
    }
    default:
      break;
  }
  const description = typeof schema.description === 'string' ? schema.description : undefined;
  if (description) return `${at} is ${shown(e.data)}, not ${description}`;
  switch (e.keyword) {
    case 'type':
      return `${at} is ${kindOf(e.data)}, not ${String(p.type).split(',').map(article).join(' or ')}`;
    case 'enum':
      return `${at} is ${shown(e.data)}, not one of ${listOf(p.allowedValues as unknown[])}`;
    case 'const':
      return `${at} is ${shown(e.data)}, not ${shown(p.allowedValue)}`;
    default:
      return `${at} is ${shown(e.data)}: it ${e.message ?? `fails ${e.keyword}`}`;
  }
}

/** Pure: what is wrong with `data` by `schema` (the first problem, in words), or undefined when it fits. */
export function shapeProblem<T>(schema: JSONSchemaType<T>, data: unknown): string | undefined {
  const validate = validatorFor(schema);
  if (validate(data)) return undefined;
  // An anyOf that fails reports each branch, then itself: the last error is the one that stopped the check.
  const errors = validate.errors ?? [];
  return errors.length ? describeProblem(errors[errors.length - 1]!) : 'does not fit its schema';
}

/**
 * Refuses a document of another format version before its shape is looked at (another version has
 * another shape), with `problem(found)`. A document that is not an object is left to its schema.
 */
export function checkVersion(
  data: unknown,
  key: string,
  expected: number,
  source: Source,
  problem: (found: unknown) => string,
): void {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return;
  const found = (data as Record<string, unknown>)[key];
  if (found !== expected) throw badDocument(source, problem(found));
}

/** The error of a document that does not fit: the source, the problem, and the fix (exit 2). */
export function badDocument(source: Source, problem: string): UsageError {
  return new UsageError(`${source.where}: ${problem}`, source.fix);
}

/** Pure: `data`, typed, or a UsageError naming the source, the JSON pointer of the problem and the fix. */
export function checkShape<T>(schema: JSONSchemaType<T>, data: unknown, source: Source): T {
  const problem = shapeProblem(schema, data);
  if (problem !== undefined) throw badDocument(source, problem);
  return data as T;
}
