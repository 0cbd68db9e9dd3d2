import type { Argv } from 'yargs';
import { UsageError } from '../errors.ts';

/** Flags every command accepts (DESIGN.md, "Global"). */
export interface GlobalOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  meshNamespace: string;
  method: 'auto' | 'meshctl' | 'helm';
  strategy: 'auto' | 'in-place' | 'manual';
  meshctl?: string[] | undefined;
  meshctlCurrent?: string | undefined;
  helm?: string | undefined;
  release?: string | undefined;
  chart?: string | undefined;
  backupDir?: string | undefined;
  resume?: string | undefined;
  yes: boolean;
  dryRun: boolean;
  timeout: string;
  concurrency: number;
  output?: string | undefined;
  verbose: number;
}

export function withGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)', global: true })
    .option('context', { type: 'string', describe: 'Kubeconfig context to use', global: true })
    .option('mesh-namespace', { type: 'string', default: 'nginx-mesh', describe: 'Namespace of the mesh control plane', global: true })
    .option('method', { choices: ['auto', 'meshctl', 'helm'] as const, default: 'auto' as const, describe: 'How the mesh was installed (auto: detect from the Helm release)', global: true })
    .option('strategy', { choices: ['auto', 'in-place', 'manual'] as const, default: 'auto' as const, describe: 'in-place upgrade, or manual remove-and-redeploy (auto: per hop, as the NSM docs require)', global: true })
    .option('meshctl', { type: 'string', array: true, describe: "Target version's nginx-meshctl (once per hop), or a directory of binaries named by version", global: true })
    .option('meshctl-current', { type: 'string', describe: "Installed version's nginx-meshctl, used to remove the mesh on the manual path", global: true })
    .option('helm', { type: 'string', describe: 'helm binary (Helm 3 or 4)', global: true })
    .option('release', { type: 'string', describe: 'Helm release name (default: detected)', global: true })
    .option('chart', { type: 'string', describe: 'Chart reference or directory for the helm path (default nginx-stable/nginx-service-mesh)', global: true })
    .option('backup-dir', { type: 'string', describe: 'Where to write the backup (default ./nsm-backup-<time>)', global: true })
    .option('resume', { type: 'string', describe: 'Resume a killed run from its backup directory journal', global: true })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask before the first destructive step', global: true })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print what would be done and change nothing', global: true })
    .option('timeout', { type: 'string', default: '10m', describe: 'How long to wait for each step (e.g. 90s, 10m, 1h)', global: true })
    .option('concurrency', { type: 'number', default: 8, describe: 'Parallel API operations / rollouts', global: true })
    .option('output', { alias: 'o', type: 'string', describe: 'Output format (text|json|yaml, per command)', global: true })
    .option('verbose', { alias: 'v', type: 'count', describe: 'More detail on stderr', global: true });
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
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a duration`, `Use a value like 90s, 10m or 1h30m for ${flag}.`);
  }
  return total;
}

export function parseConcurrency(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(Number.isNaN(n) ? '--concurrency needs a number' : `--concurrency ${n} is out of range`, 'Use a whole number from 1 to 256.');
  return n;
}

export function outputFormat<F extends string>(value: string | undefined, allowed: readonly F[], fallback: F): F {
  const v = (value ?? fallback) as F;
  if (!allowed.includes(v)) throw new UsageError(`-o ${value} is not supported by this command`, `Use -o ${allowed.join("|")}.`);
  return v;
}
