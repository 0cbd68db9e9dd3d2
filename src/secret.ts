/**
 * Secret values by type. A registry password, a registry key or an upstream CA's credentials
 * enter the tool as Secret objects (where install values are read, and from --deploy-flag), and
 * stay Secret through the plan: JSON (the journal, `plan -o json|yaml`), `String()` and
 * `util.inspect` (logs, errors) all give `<redacted>`. Only the runner (a child's argv) and the
 * writers of 0600 files (Helm values, a key file) call reveal().
 *
 * Defence in depth: every secret value ever wrapped is also remembered, and scrub() replaces it in
 * any text the tool prints (log lines, progress, errors, a child's stderr tail).
 */
import { inspect } from 'node:util';

export const redacted = '<redacted>';

const known = new Set<string>();

export class Secret {
  readonly #value: string;
  /** What it is ("registry.password"), shown instead of the value. */
  readonly label: string;
  constructor(value: string, label: string) {
    this.#value = value;
    this.label = label;
    if (value.length >= 4) known.add(value);
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return redacted;
  }
  toString(): string {
    return redacted;
  }
  [inspect.custom](): string {
    return redacted;
  }
}

/** An argument of an external command: plain text, or a secret shown as `<redacted>`. */
export type Arg = string | Secret;

export const isSecret = (v: unknown): v is Secret => v instanceof Secret;

export function revealArg(a: Arg): string {
  return typeof a === 'string' ? a : a.reveal();
}

/** Replaces every known secret value in `text` with `<redacted>`. */
export function scrub(text: string): string {
  let out = text;
  for (const v of known) if (out.includes(v)) out = out.split(v).join(redacted);
  return out;
}

/**
 * The chart values that hold credentials (every NSM chart 1.5.0 to 2.0.0): the registry password
 * and GCR key, and the upstream CA credentials under mtls.upstreamAuthority (keys, secret access
 * keys, tokens, passwords). Paths are dotted.
 */
export function isSecretPath(path: string): boolean {
  if (path === 'registry.password' || path === 'registry.key') return true;
  if (!path.startsWith('mtls.upstreamAuthority.')) return false;
  const leaf = path.slice(path.lastIndexOf('.') + 1);
  return /(password|secret|token|key)$/i.test(leaf) || /^(awsAccessKeyID|awsAccessKeyId|keyFile)$/.test(leaf);
}

/** A copy of `values` with every secret path's string value wrapped in a Secret. */
export function markSecrets(values: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string' && v !== '' && isSecretPath(p)) out[k] = new Secret(v, p);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && !isSecret(v)) out[k] = markSecrets(v as Record<string, unknown>, p);
    else out[k] = v;
  }
  return out;
}

/** A deep copy with every Secret revealed: only for a 0600 file a child reads (Helm values). */
export function revealDeep(v: unknown): unknown {
  if (isSecret(v)) return v.reveal();
  if (Array.isArray(v)) return v.map(revealDeep);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revealDeep(x)]));
  return v;
}

/** A deep copy as printed or journaled: every Secret becomes `<redacted>` (what JSON.stringify does too). */
export function redactDeep<T>(v: T): T {
  return JSON.parse(JSON.stringify(v) ?? 'null') as T;
}

/** A deep copy that keeps Secret objects (structuredClone would turn them into empty objects). */
export function cloneValues(v: unknown): unknown {
  if (isSecret(v)) return v;
  if (Array.isArray(v)) return v.map(cloneValues);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneValues(x)]));
  return v;
}
