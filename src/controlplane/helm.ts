/**
 * Pure argument builders for helm, right for Helm 3 and Helm 4. Each returns a Command for the
 * one runner; nothing here executes anything.
 *
 * Differences that matter here (helm upgrade --help of v3.17 and v4.1):
 * - Helm 3 `--atomic` is Helm 4 `--rollback-on-failure`;
 * - Helm 3 `--wait` is a switch; Helm 4 `--wait` takes a strategy and defaults to `hookOnly`,
 *   so we pass `--wait=watcher` to wait for the resources to be ready, as Helm 3's `--wait` does.
 */
import type { Command } from '../exec/runner.ts';

export type HelmMajor = 3 | 4;

export interface HelmTarget {
  bin: string;
  major: HelmMajor;
  namespace: string;
  /** Duration text ("10m"). */
  timeout: string;
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** Which chart: a reference plus optional `--version` (omitted for local charts, which have one version). */
export interface ChartRef {
  ref: string;
  version?: string | undefined;
}

/** The flags Helm 3 and Helm 4 spell differently, with the reason. */
export const helmFlags: Record<'atomic' | 'wait', Record<HelmMajor, string>> = {
  // Helm 4 renamed --atomic; the old name is gone.
  atomic: { 3: '--atomic', 4: '--rollback-on-failure' },
  // Helm 4's bare --wait means "watcher", but its default without the flag is hookOnly: be explicit.
  wait: { 3: '--wait', 4: '--wait=watcher' },
};

/** `helm version --short`: read-only; prints `v3.17.3+ge4da497`. */
export function helmVersion(bin: string): Command {
  return { bin, args: ['version', '--short'], writes: false, timeoutMs: 30_000 };
}

/** The major version from `helm version --short` output; undefined when not Helm 3 or 4. */
export function parseHelmMajor(stdout: string): HelmMajor | undefined {
  const m = /^v?(\d+)\.\d+\.\d+/.exec(stdout.trim());
  const major = Number(m?.[1]);
  return major === 3 || major === 4 ? major : undefined;
}

/** Full version ("3.17.3") from `helm version --short`. */
export function parseHelmVersion(stdout: string): string | undefined {
  return /^v?(\d+\.\d+\.\d+)/.exec(stdout.trim())?.[1];
}

function cluster(t: HelmTarget): string[] {
  return [...(t.kubeconfig ? ['--kubeconfig', t.kubeconfig] : []), ...(t.context ? ['--kube-context', t.context] : [])];
}

function chartArgs(c: ChartRef): string[] {
  return [c.ref, ...(c.version ? ['--version', c.version] : [])];
}

/**
 * In-place: `helm upgrade RELEASE CHART [--version V] -n NS --reset-then-reuse-values
 * [--set k=v]... --wait --timeout T [--atomic|--rollback-on-failure]`.
 *
 * Values: `--reuse-values` would re-apply the OLD chart's defaults (Helm copies the previous
 * release's computed values over the new chart's), which keep `registry.imageTag` at the old
 * version, so the control plane would not move. `--reset-then-reuse-values` (Helm >= 3.14 and 4)
 * takes the new chart's defaults and re-applies only the user's values. `set` overrides come
 * last (e.g. registry.imageTag when the user pinned it).
 */
export function helmUpgrade(
  t: HelmTarget,
  opts: {
    release: string;
    chart: ChartRef;
    set?: Readonly<Record<string, string>>;
    atomic?: boolean;
    values?: 'reset-then-reuse' | 'reuse';
  },
): Command {
  const valuesFlag = (opts.values ?? 'reset-then-reuse') === 'reuse' ? '--reuse-values' : '--reset-then-reuse-values';
  const sets = Object.entries(opts.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  return {
    bin: t.bin,
    args: [
      'upgrade',
      opts.release,
      ...chartArgs(opts.chart),
      '-n',
      t.namespace,
      valuesFlag,
      ...sets,
      helmFlags.wait[t.major],
      '--timeout',
      t.timeout,
      ...(opts.atomic ? [helmFlags.atomic[t.major]] : []),
      ...cluster(t),
    ],
    writes: true,
  };
}

/** Manual path: `helm uninstall RELEASE -n NS --wait --timeout T` (leaves CRDs and the namespace). */
export function helmUninstall(t: HelmTarget, release: string): Command {
  return {
    bin: t.bin,
    args: ['uninstall', release, '-n', t.namespace, helmFlags.wait[t.major], '--timeout', t.timeout, ...cluster(t)],
    writes: true,
  };
}

/**
 * Manual path: `helm install RELEASE CHART [--version V] -n NS --create-namespace -f VALUES --wait
 * --timeout T`, with the carried-over values in a file the executor writes (never --set, so
 * nothing is lost to Helm's --set parsing and no value lands on the command line).
 */
export function helmInstall(t: HelmTarget, opts: { release: string; chart: ChartRef; valuesFile: string }): Command {
  return {
    bin: t.bin,
    args: [
      'install',
      opts.release,
      ...chartArgs(opts.chart),
      '-n',
      t.namespace,
      '--create-namespace',
      '-f',
      opts.valuesFile,
      helmFlags.wait[t.major],
      '--timeout',
      t.timeout,
      ...cluster(t),
    ],
    writes: true,
  };
}

/**
 * Rollback: `helm rollback RELEASE REVISION -n NS --wait --timeout T` (Helm 4: --wait=watcher).
 * Helm makes a new revision holding the old chart and values; it does not touch the CRDs.
 */
export function helmRollback(t: HelmTarget, opts: { release: string; revision: number }): Command {
  return {
    bin: t.bin,
    args: [
      'rollback',
      opts.release,
      String(opts.revision),
      '-n',
      t.namespace,
      helmFlags.wait[t.major],
      '--timeout',
      t.timeout,
      ...cluster(t),
    ],
    writes: true,
  };
}

/** `helm show crds CHART [--version V]`: read-only; prints the chart's CRDs for the executor to apply through the API. */
export function helmShowCrds(t: Pick<HelmTarget, 'bin'>, chart: ChartRef): Command {
  return { bin: t.bin, args: ['show', 'crds', ...chartArgs(chart)], writes: false };
}

/** `helm show chart CHART [--version V]`: read-only; preflight uses it to prove the chart can be fetched. */
export function helmShowChart(t: Pick<HelmTarget, 'bin'>, chart: ChartRef): Command {
  return { bin: t.bin, args: ['show', 'chart', ...chartArgs(chart)], writes: false, timeoutMs: 120_000 };
}
