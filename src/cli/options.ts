import type { ArgumentsCamelCase, Argv } from 'yargs';
import { UsageError } from '../errors.ts';
import { assertSafeName } from '../kube/paths.ts';
import type { WorkloadRef } from '../workloads/owners.ts';

/**
 * The flags every cluster command reads (ARCHITECTURE.md, "Add a command"), declared once with `global: true`.
 * Every other flag is declared by the commands whose handlers read it, so `.strict()` refuses it
 * elsewhere (exit 2) instead of ignoring it.
 */
export function withGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', {
      type: 'string',
      describe: 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)',
      global: true,
    })
    .option('context', { type: 'string', describe: 'Kubeconfig context to use', global: true })
    .option('mesh-namespace', {
      type: 'string',
      default: 'nginx-mesh',
      describe: 'Namespace of the mesh control plane',
      global: true,
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'Output format (text|json|yaml, per command)',
      global: true,
    })
    .option('verbose', { alias: 'v', type: 'count', describe: 'More detail on stderr', global: true });
}

/** The yargs instance every command builder starts from: the global flags, as declared. */
export type GlobalArgv = ReturnType<typeof withGlobalOptions<object>>;
/** The global flags' types (dashed names): the T of every `CommandModule<GlobalFlags, Declared<typeof builder>>`. */
export type GlobalFlags = GlobalArgv extends Argv<infer U> ? U : never;
/** What a builder `(y: GlobalArgv) => Argv<U>` declares: U, the global flags included. The handler's argv is ArgumentsCamelCase<U>. */
export type Declared<B extends (y: GlobalArgv) => unknown> = ReturnType<B> extends Argv<infer U> ? U : never;
/** The global flags as a handler reads them (camelCase names too). */
export type GlobalOptions = ArgumentsCamelCase<GlobalFlags>;

/*
 * Flags that several commands read, declared by each of them (not global). --timeout: plan (the
 * waits it puts in nginx-meshctl/helm commands), upgrade, restore, restart; --concurrency: upgrade,
 * backup, restore, restart; --dry-run: upgrade, restore, restart; --release: plan, upgrade, backup.
 */
export const timeoutOption = {
  type: 'string',
  default: '10m',
  describe: 'How long to wait for each step (e.g. 90s, 10m, 1h)',
} as const;
export const concurrencyOption = {
  type: 'number',
  default: 8,
  describe: 'Parallel API operations / rollouts',
} as const;
export const dryRunOption = {
  type: 'boolean',
  default: false,
  describe: 'Print what would be done and change nothing',
} as const;
export const releaseOption = { type: 'string', describe: 'Helm release name (default: detected)' } as const;

/** --timeout, --concurrency and --dry-run: the commands that change the cluster and wait (upgrade, restore, restart). */
export function withRunOptions<T>(y: Argv<T>) {
  return y.option('timeout', timeoutOption).option('concurrency', concurrencyOption).option('dry-run', dryRunOption);
}

/**
 * The restart's safety flags, for every command that restarts workloads (upgrade, rollback,
 * restart): the slow start's canary and the failure gate.
 */
export function withRestartOptions<T>(y: Argv<T>) {
  return y
    .option('max-failures', {
      type: 'number',
      default: 1,
      describe:
        'Stop starting workload restarts once this many have failed (their rollout failed or timed out); 0 never stops',
    })
    .option('first', {
      type: 'string',
      describe:
        'The workload to restart first, alone, as NAMESPACE/KIND/NAME (default: the smallest); the rest follow as it succeeds',
    });
}

/** --max-failures: a whole number, 0 (never stop) or more. */
export function parseMaxFailures(n: number): number {
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(
      Number.isNaN(n) ? '--max-failures needs a number' : `--max-failures ${n} is not a whole number of 0 or more`,
      'Use --max-failures 1 (stop at the first failure, the default), a larger number, or 0 to never stop.',
    );
  return n;
}

/** Parses NAMESPACE/KIND/NAME (--first, --undo) (KIND case-insensitive: deployment, statefulset, daemonset, pod). */
export function parseWorkloadRef(text: string): WorkloadRef | undefined {
  const m = /^([^/]+)\/(deployment|statefulset|daemonset|pod)\/([^/]+)$/i.exec(text.trim());
  if (!m) return undefined;
  const kind = { deployment: 'Deployment', statefulset: 'StatefulSet', daemonset: 'DaemonSet', pod: 'Pod' }[
    m[2]!.toLowerCase()
  ]!;
  return { namespace: m[1]!, kind, name: m[3]! };
}

/** --first / --undo: NAMESPACE/KIND/NAME with KIND deployment, statefulset, daemonset (or pod for --first). */
export function parseWorkloadFlag(text: string | undefined, flag: string): WorkloadRef | undefined {
  if (text === undefined) return undefined;
  const ref = parseWorkloadRef(text);
  if (!ref)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not NAMESPACE/KIND/NAME`,
      `Name the workload as NAMESPACE/deployment/NAME (or statefulset, daemonset), e.g. ${flag} shop/deployment/cart.`,
    );
  assertSafeName(ref.namespace, 'namespace');
  assertSafeName(ref.name, 'name');
  return ref;
}

/** The run's pace, as every command that waits takes it: --timeout (per step) and --concurrency, checked. */
export interface RunControl {
  timeout: string;
  timeoutMs: number;
  concurrency: number;
}
export function parseRunControl(argv: { timeout: string; concurrency: number }): RunControl {
  return {
    timeout: argv.timeout,
    timeoutMs: parseDuration(argv.timeout),
    concurrency: parseConcurrency(argv.concurrency),
  };
}

/** The restart's safety (withRestartOptions): the failure gate and the canary, checked. */
export interface RestartSafety {
  maxFailures: number;
  first: WorkloadRef | undefined;
}
export function parseRestartSafety(argv: { maxFailures: number; first?: string | undefined }): RestartSafety {
  return { maxFailures: parseMaxFailures(argv.maxFailures), first: parseWorkloadFlag(argv.first, '--first') };
}

/** Parses "90s", "10m", "1h30m", "500ms" into milliseconds. */
export function parseDuration(text: string, flag = '--timeout'): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (!text || matched !== text.length || total <= 0) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a duration`,
      `Use a value like 90s, 10m or 1h30m for ${flag}.`,
    );
  }
  return total;
}

/** A list flag given as `a,b,c`, repeated, or both (--contexts): the names, trimmed, none empty. */
export function commaList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function parseConcurrency(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new UsageError(
      Number.isNaN(n) ? '--concurrency needs a number' : `--concurrency ${n} is out of range`,
      'Use a whole number from 1 to 256.',
    );
  return n;
}

export function outputFormat<F extends string>(value: string | undefined, allowed: readonly F[], fallback: F): F {
  const v = (value ?? fallback) as F;
  if (!allowed.includes(v))
    throw new UsageError(`-o ${value} is not supported by this command`, `Use -o ${allowed.join('|')}.`);
  return v;
}
