/**
 * Carrying an install's configuration across a manual (remove + deploy) upgrade: the release's
 * values become `nginx-meshctl deploy` flags (meshctl path) or a values file (helm path),
 * translated for the target version. Settings the target removed are dropped with a warning
 * each. Pure.
 *
 * The table maps each chart value to its deploy flag as the REAL binaries define them
 * (nsm-reference/meshctl-src/<version>/internal/nginx-meshctl/commands/deploy.go; 1.6.0 has no
 * source and follows 1.7.0, which shares that code). test/unit/meshctl-help.test.ts checks every
 * row against the captured `deploy --help` of each real binary plus its hidden flags
 * (meshctl-flags.ts), and that every flag the real deploy accepts has a row.
 */
import { Secret, cloneValues, isSecret, type Arg } from '../secret.ts';
import { setValueAt, valueAt } from '../values.ts';
import { isAtLeast } from '../version-compare.ts';

/** 'pull-always': the real deploy has no pull-policy flag, only the hidden bool -p/--pull-always (Always). */
type FlagType = 'string' | 'bool' | 'list' | 'number' | 'pull-always';

export interface DeploySetting {
  /** The nginx-meshctl deploy flag without dashes; undefined for values only Helm can set. */
  flag: string | undefined;
  /** The chart value, as a dotted path. */
  path: string;
  type: FlagType;
  /** The chart default: a flag is passed only when the install differs from it. */
  default: unknown;
  /** First version that no longer has the setting (it is dropped with a warning). */
  removedIn?: string;
  /** Never carried over (reason says why). */
  carry: boolean;
  /** Not carrying it is the point: no warning. */
  quiet?: boolean;
  reason: string;
  /** A credential: carried as a Secret (shown `<redacted>`, never journaled). */
  secret?: true;
  /** The flag takes a file but the value holds its content: written 0600 under this name in the hop's backup directory. */
  file?: string;
}

export const deploySettings: readonly DeploySetting[] = [
  {
    flag: 'environment',
    path: 'environment',
    type: 'string',
    default: 'kubernetes',
    carry: true,
    reason: 'kubernetes or openshift; must match the cluster',
  },
  {
    flag: 'registry-server',
    path: 'registry.server',
    type: 'string',
    default: 'docker-registry.nginx.com/nsm',
    carry: true,
    reason: 'private mirrors must keep working after a redeploy',
  },
  {
    flag: 'image-tag',
    path: 'registry.imageTag',
    type: 'string',
    default: undefined,
    carry: false,
    quiet: true,
    reason: 'the target binary deploys its own version; carrying the old tag would redeploy the old images',
  },
  {
    flag: 'disable-public-images',
    path: 'registry.disablePublicImages',
    type: 'bool',
    default: false,
    carry: true,
    reason: 'air-gapped installs pull from the mirror only',
  },
  {
    flag: 'pull-always',
    path: 'registry.imagePullPolicy',
    type: 'pull-always',
    default: 'IfNotPresent',
    carry: true,
    reason:
      'image pull policy: the real deploy has no --pull-policy; hidden -p/--pull-always sets Always, any other policy has no flag (deploy always sets IfNotPresent)',
  },
  {
    flag: 'registry-username',
    path: 'registry.username',
    type: 'string',
    default: '',
    carry: true,
    reason: 'the private registry user: image pulls must keep working after a redeploy',
  },
  {
    flag: 'registry-password',
    path: 'registry.password',
    type: 'string',
    default: '',
    carry: true,
    secret: true,
    reason:
      'a credential, carried from the release values as a secret; nginx-meshctl only takes it as a flag, so it is on its command line while deploy runs',
  },
  {
    flag: 'registry-key',
    path: 'registry.key',
    type: 'string',
    default: '',
    carry: true,
    secret: true,
    file: 'registry-key.json',
    reason: 'the flag takes a key file, the value holds the key itself: written to a 0600 file for the deploy',
  },
  {
    flag: 'access-control-mode',
    path: 'accessControlMode',
    type: 'string',
    default: 'allow',
    carry: true,
    reason: 'allow or deny: losing deny opens traffic',
  },
  { flag: 'enable-udp', path: 'enableUDP', type: 'bool', default: false, carry: true, reason: 'UDP traffic proxying' },
  {
    flag: 'nginx-error-log-level',
    path: 'nginxErrorLogLevel',
    type: 'string',
    default: 'warn',
    carry: true,
    reason: 'sidecar error log level',
  },
  {
    flag: 'nginx-log-format',
    path: 'nginxLogFormat',
    type: 'string',
    default: 'default',
    carry: true,
    reason: 'sidecar access log format',
  },
  {
    flag: 'nginx-lb-method',
    path: 'nginxLBMethod',
    type: 'string',
    default: 'least_time',
    carry: true,
    reason: 'load-balancing method of the sidecars',
  },
  {
    flag: 'client-max-body-size',
    path: 'clientMaxBodySize',
    type: 'string',
    default: '1m',
    carry: true,
    reason: 'request body limit of the sidecars',
  },
  {
    flag: 'prometheus-address',
    path: 'prometheusAddress',
    type: 'string',
    default: '',
    carry: true,
    reason: 'external Prometheus (the bundled one is gone since 1.5)',
  },
  {
    flag: 'disable-auto-inject',
    path: 'disableAutoInjection',
    type: 'bool',
    default: false,
    removedIn: '2.0.0',
    carry: true,
    reason: '2.0 makes injection opt-in per namespace label',
  },
  {
    flag: 'enabled-namespaces',
    path: 'enabledNamespaces',
    type: 'list',
    default: [],
    removedIn: '2.0.0',
    carry: true,
    reason: '2.0 uses the injector.nsm.nginx.com/auto-inject=enabled namespace label instead',
  },
  {
    flag: undefined,
    path: 'autoInjection',
    type: 'string',
    default: { disable: false, disabledNamespaces: [], enabledNamespaces: [] },
    removedIn: '2.0.0',
    carry: true,
    reason: 'helm-only 1.x injection settings; 2.0 removed them (opt-in labels instead)',
  },
  {
    flag: 'disabled-namespaces',
    path: 'autoInjection.disabledNamespaces',
    type: 'list',
    default: [],
    removedIn: '2.0.0',
    carry: true,
    reason: '1.x deprecated (hidden) deploy flag; 2.0 removed it (opt-in labels instead)',
  },
  {
    flag: 'telemetry-sampler-ratio',
    path: 'telemetry.samplerRatio',
    type: 'number',
    default: undefined,
    carry: true,
    reason: 'OpenTelemetry sampling',
  },
  {
    flag: 'telemetry-exporters',
    path: 'telemetry.exporters.otlp',
    type: 'string',
    default: undefined,
    carry: true,
    reason: 'OpenTelemetry OTLP exporter, passed as type=otlp,host=H,port=P',
  },
  {
    flag: 'tracing-address',
    path: 'tracing.address',
    type: 'string',
    default: undefined,
    removedIn: '2.0.0',
    carry: true,
    reason: 'OpenTracing: 1.7 keeps it as a deprecated hidden flag, 2.0 removes it (use OpenTelemetry)',
  },
  {
    flag: 'tracing-backend',
    path: 'tracing.backend',
    type: 'string',
    default: undefined,
    removedIn: '2.0.0',
    carry: true,
    reason: 'OpenTracing: 1.7 keeps it as a deprecated hidden flag, 2.0 removes it (use OpenTelemetry)',
  },
  {
    flag: 'sample-rate',
    path: 'tracing.sampleRate',
    type: 'number',
    default: undefined,
    removedIn: '2.0.0',
    carry: true,
    reason:
      'OpenTracing sample rate (flag --sample-rate, not --tracing-sample-rate): deprecated in 1.7, removed in 2.0',
  },
  {
    flag: 'mtls-mode',
    path: 'mtls.mode',
    type: 'string',
    default: 'permissive',
    carry: true,
    reason: 'off, permissive or strict',
  },
  {
    flag: 'mtls-ca-ttl',
    path: 'mtls.caTTL',
    type: 'string',
    default: '720h',
    carry: true,
    reason: 'CA certificate lifetime',
  },
  {
    flag: 'mtls-svid-ttl',
    path: 'mtls.svidTTL',
    type: 'string',
    default: '1h',
    carry: true,
    reason: 'workload certificate lifetime',
  },
  {
    flag: 'mtls-trust-domain',
    path: 'mtls.trustDomain',
    type: 'string',
    default: 'example.org',
    carry: true,
    reason: 'SPIFFE trust domain: changing it re-issues every identity',
  },
  {
    flag: 'persistent-storage',
    path: 'mtls.persistentStorage',
    type: 'string',
    default: undefined,
    carry: true,
    reason:
      'SPIRE server storage: always passed, because the flag defaults to auto (off without a default StorageClass), not to the chart default on',
  },
  {
    flag: 'spire-server-key-manager',
    path: 'mtls.spireServerKeyManager',
    type: 'string',
    default: 'disk',
    carry: true,
    reason: 'where SPIRE keeps its keys',
  },
  {
    flag: 'mtls-ca-key-type',
    path: 'mtls.caKeyType',
    type: 'string',
    default: 'ec-p256',
    carry: true,
    reason: 'CA key algorithm',
  },
  {
    flag: 'mtls-upstream-ca-conf',
    path: 'mtls.upstreamAuthority',
    type: 'string',
    default: {},
    carry: false,
    reason: 'the flag takes a file; pass --deploy-flag mtls-upstream-ca-conf=FILE again',
  },
];

function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && Object.keys(v).length === 0)
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b) && !isSecret(a) && !isSecret(b);

/**
 * The plan's warning when a deploy's arguments hold a credential (the registry password): the
 * vendor's deploy reads it only from its command line (deploy.go: --registry-password binds
 * values.Registry.Password; no file, stdin or environment variable), where any local user sees it
 * in `ps` (/proc/PID/cmdline) while the deploy runs. `alternatives`: the command can avoid it
 * (an upgrade can; a rollback redeploys the way the mesh was installed).
 */
export function commandLineCredentialNote(args: readonly Arg[], alternatives: boolean): string | undefined {
  if (!args.some((a) => isSecret(a) && a.reveal() !== '')) return undefined;
  return (
    'nginx-meshctl deploy takes the registry password only on its command line (--registry-password; it has no file or environment option): ' +
    'while the deploy runs, every user of this machine can read it in `ps`; the tool never prints or journals it' +
    (alternatives
      ? '. To keep it off the command line: upgrade with --method helm (the password then goes only into a 0600 values file helm reads), ' +
        'or, for a Google registry, use a registry key file instead of a user and password (--deploy-flag registry-key=FILE, with --deploy-flag registry-username= --deploy-flag registry-password=; nginx-meshctl reads the key from the file)'
      : '')
  );
}

/** A file a deploy flag reads (the value's content, written 0600 before the deploy runs). */
export interface DeployFile {
  path: string;
  content: Secret;
}

/** What to pass for a setting from its (non-empty) value: the value itself, or a file holding it. */
function valueArg(s: DeploySetting, v: unknown, fileDir: string | undefined, files: DeployFile[]): Arg | undefined {
  if (!s.file) return s.secret && !isSecret(v) ? new Secret(String(v), s.path) : flagValue(s, v);
  if (!fileDir) return undefined;
  const path = `${fileDir}/${s.file}`;
  files.push({ path, content: isSecret(v) ? v : new Secret(String(v), s.path) });
  return path;
}

/** The deploy setting for a flag name ("mtls-mode" or "--mtls-mode"). */
export function findDeploySetting(flag: string): DeploySetting | undefined {
  const name = flag.replace(/^--/, '');
  return deploySettings.find((s) => s.flag === name);
}

/** Flags in `changes` that nginx-meshctl deploy does not have (for the planner's refusals). */
export function unknownDeployFlags(changes: Readonly<Record<string, Arg>>): string[] {
  return Object.keys(changes).filter((f) => !findDeploySetting(f));
}

/** Flags in `changes` that the target version removed. */
export function removedDeployFlags(changes: Readonly<Record<string, Arg>>, target: string): string[] {
  return Object.keys(changes).filter((f) => {
    const s = findDeploySetting(f);
    return s?.removedIn !== undefined && isAtLeast(target, s.removedIn);
  });
}

function flagValue(s: DeploySetting, v: unknown): Arg {
  if (isSecret(v)) return v;
  if (s.path === 'telemetry.exporters.otlp') {
    const o = v as { host?: string; port?: number };
    return `type=otlp,host=${o.host ?? ''},port=${o.port ?? 4317}`;
  }
  return Array.isArray(v) ? v.join(',') : String(v);
}

export interface Translation<T> {
  result: T;
  /** One line per setting dropped or not carried, naming it. */
  warnings: string[];
}

function dropWarning(s: DeploySetting, v: unknown, target: string): string {
  return `${s.path}=${JSON.stringify(v)}${s.flag ? ` (--${s.flag})` : ''} is dropped: ${target} removed it (${s.reason})`;
}

/**
 * Rebuilds `nginx-meshctl deploy` flags from the release values for `target`: only settings
 * that differ from the chart default, never the old image tag, never credentials; user
 * `changes` (flag -> value) override. Settings the target removed are dropped with a warning.
 */
export function deployFlagsFromValues(
  values: Record<string, unknown>,
  target: string,
  changes: Readonly<Record<string, Arg>> = {},
  fileDir?: string,
): Translation<Arg[]> & { files: DeployFile[] } {
  const args: Arg[] = [];
  const warnings: string[] = [];
  const files: DeployFile[] = [];
  for (const s of deploySettings) {
    if (!s.flag) continue;
    const changed = changes[s.flag] ?? changes[`--${s.flag}`];
    const removed = s.removedIn !== undefined && isAtLeast(target, s.removedIn);
    if (changed !== undefined) {
      if (removed) {
        warnings.push(`--deploy-flag ${s.flag} is ignored: ${target} removed it (${s.reason})`);
        continue;
      }
      if (s.type === 'pull-always') {
        if (/^(true|always)$/i.test(String(changed))) args.push(`--${s.flag}`);
        else
          warnings.push(
            `--deploy-flag ${s.flag}=${String(changed)} is ignored: nginx-meshctl deploy can only set the pull policy to Always (--pull-always)`,
          );
      } else if (s.type === 'bool') args.push(`--${s.flag}=${String(changed)}`);
      else args.push(`--${s.flag}`, changed);
      continue;
    }
    const v = valueAt(values, s.path);
    if (isEmpty(v) || same(v, s.default)) continue;
    if (removed) {
      warnings.push(dropWarning(s, v, target));
      continue;
    }
    if (!s.carry) {
      if (!s.quiet) warnings.push(`${s.path} is not carried over: ${s.reason}`);
      continue;
    }
    if (s.type === 'pull-always') {
      if (v === 'Always') args.push(`--${s.flag}`);
      else
        warnings.push(
          `${s.path}=${JSON.stringify(v)} is dropped: nginx-meshctl deploy has no flag for it (only --pull-always for Always; deploy sets IfNotPresent otherwise)`,
        );
      continue;
    }
    if (s.type === 'bool') {
      if (v === true) args.push(`--${s.flag}`);
      else args.push(`--${s.flag}=false`);
      continue;
    }
    const arg = valueArg(s, v, fileDir, files);
    if (arg === undefined) {
      warnings.push(`${s.path} is not carried over: no directory to write its file in`);
      continue;
    }
    args.push(`--${s.flag}`, arg);
  }
  return { result: args, warnings, files };
}

function deletePath(values: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  const parent = valueAt(values, keys.slice(0, -1).join('.')) ?? (keys.length === 1 ? values : undefined);
  if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[keys[keys.length - 1]!];
}

/** A flag's text as the chart value it sets (the inverse of flagValue). */
export function parseTyped(s: DeploySetting, arg: Arg): unknown {
  if (isSecret(arg)) return arg;
  const text = arg;
  if (s.path === 'telemetry.exporters.otlp') {
    const kv = Object.fromEntries(text.split(',').map((p) => p.split('=') as [string, string]));
    return { host: kv.host ?? '', port: Number(kv.port ?? 4317) };
  }
  if (s.type === 'pull-always') return /^(true|always)$/i.test(text) ? 'Always' : 'IfNotPresent';
  if (s.type === 'bool') return text === 'true' || text === '';
  if (s.type === 'number') return Number(text);
  if (s.type === 'list')
    return text
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return text;
}

/**
 * Translates release values for `helm install` of `target` (the manual helm path): removed
 * settings dropped with a warning, registry.imageTag set to the target, user `changes`
 * (deploy flag names) applied to their value paths. Returns a new object.
 */
export function valuesForTarget(
  values: Record<string, unknown>,
  target: string,
  changes: Readonly<Record<string, Arg>> = {},
): Translation<Record<string, unknown>> {
  const out = cloneValues(values) as Record<string, unknown>;
  const warnings: string[] = [];
  for (const s of deploySettings) {
    if (s.removedIn === undefined || !isAtLeast(target, s.removedIn)) continue;
    const v = valueAt(out, s.path);
    if (v === undefined) continue;
    if (!isEmpty(v) && !same(v, s.default)) warnings.push(dropWarning(s, v, target));
    deletePath(out, s.path);
  }
  if (isAtLeast(target, '2.0.0') && isEmpty(valueAt(out, 'tracing'))) delete out.tracing;
  if (valueAt(out, 'registry.imageTag') !== undefined) setValueAt(out, 'registry.imageTag', target.replace(/^v/, ''));
  for (const [flag, text] of Object.entries(changes)) {
    const s = findDeploySetting(flag);
    if (!s) continue;
    if (s.removedIn !== undefined && isAtLeast(target, s.removedIn)) {
      warnings.push(`--deploy-flag ${s.flag} is ignored: ${target} removed it (${s.reason})`);
      continue;
    }
    setValueAt(out, s.path, parseTyped(s, text));
  }
  return { result: out, warnings };
}
