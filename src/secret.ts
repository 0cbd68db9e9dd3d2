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
 * Chart values whose name or chart description speaks of a key, a secret or a credential, but
 * which hold none: shown as they are. Each was read in the charts' values.yaml and
 * values.schema.json (every version 1.5.0 to 2.0.0); test/unit/core/chart-credentials.test.ts
 * fails on any other such field that is not secret.
 */
export const notCredentials: readonly { path: string; reason: string }[] = [
  {
    path: 'registry.username',
    reason: '"Username for accessing private registry": names the account; the password is the credential',
  },
  { path: 'mtls.caTTL', reason: '"The CA/signing key TTL": a duration' },
  {
    path: 'mtls.caKeyType',
    reason: '"The key type used for the SPIRE Server CA": an algorithm (ec-p256, rsa-2048, ...)',
  },
  {
    path: 'mtls.spireServerKeyManager',
    reason: '"Storage logic for SPIRE Server\'s private keys": disk or memory, not a key',
  },
  {
    path: 'mtls.upstreamAuthority.awsSecret.keyFileArn',
    reason:
      '"ARN of the upstream CA key file": names the AWS secret that holds the key; reading it needs the AWS credentials',
  },
  {
    path: 'mtls.upstreamAuthority.awsPCA.assumeRoleArn',
    reason:
      '"ARN of an IAM role to assume" (its comment mentions "your AWS credentials"): names a role, grants nothing by itself',
  },
  {
    path: 'mtls.upstreamAuthority.vault.pkiMountPoint',
    reason: '"Name of the mount point where the PKI secret engine is mounted": a Vault path',
  },
];

/** The last word of a name says what the value is: "approleSecretID" is a secret (its ID), "tlsSecretName" a name. */
const credentialWords = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'key',
  'apikey',
  'privatekey',
  'credential',
  'credentials',
  'kubeconfig',
]);
/**
 * Trailing words that say which part or form of a credential the value is, stripped before the
 * last word is read: "awsAccessKeyID" and "approleSecretID" (AWS access key pair half, Vault
 * SecretID: credentials), "clientKeyData", and "keyFile" (a File may be a path or, like
 * registry.key's "Contents of your ... key file", the content itself: a redacted path costs a
 * line of the plan, a printed key costs a rotation). Not stripped, so shown: ...Name (a Secret's
 * name, a role's name), ...Path, ...Arn, ...Ref, ...Type, ...Manager, ...MountPoint, ...TTL.
 */
const partWords = new Set(['id', 'ids', 'data', 'file', 'content', 'contents', 'pem', 'b64', 'base64']);

/** "awsSecretKeyID" -> ["aws", "secret", "key", "id"]. */
const words = (leaf: string): string[] =>
  leaf
    .split(/(?<=[a-z0-9])(?=[A-Z])|[-_]+/)
    .map((w) => w.toLowerCase())
    .filter(Boolean);

/**
 * Does the chart value at `path` (dotted) hold a credential? By its name, so a credential a future
 * chart adds is secret without a code change: the last word of the leaf, after the part words,
 * is one of `credentialWords` (or the name is a kubeconfig). Covers every credential of the NSM
 * charts 1.5.0 to 2.0.0: registry.password and registry.key, and under mtls.upstreamAuthority the
 * disk and Vault client keys, the AWS access keys, secret keys and tokens, the Vault token and
 * AppRole SecretID, and cert-manager's kubeConfig. `notCredentials` lists the exceptions.
 */
export function isSecretPath(path: string): boolean {
  if (notCredentials.some((n) => n.path === path)) return false;
  const w = words(path.slice(path.lastIndexOf('.') + 1));
  while (w.length > 1 && partWords.has(w[w.length - 1]!)) w.pop();
  const last = w[w.length - 1] ?? '';
  return credentialWords.has(last) || w.slice(-2).join('') === 'kubeconfig';
}

/** A copy of `values` with every secret path's string value wrapped in a Secret. */
export function markSecrets(values: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string' && v !== '' && isSecretPath(p)) out[k] = new Secret(v, p);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && !isSecret(v))
      out[k] = markSecrets(v as Record<string, unknown>, p);
    else out[k] = v;
  }
  return out;
}

/** A deep copy with every Secret revealed: only for a 0600 file a child reads (Helm values). */
export function revealDeep(v: unknown): unknown {
  if (isSecret(v)) return v.reveal();
  if (Array.isArray(v)) return v.map(revealDeep);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revealDeep(x)]));
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
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneValues(x)]));
  return v;
}
