/**
 * Gathers the PlanOptions the pure planner needs from the command line and the machine: which
 * nginx-meshctl binaries exist for which versions, the helm binary's major version, where the
 * chart comes from, and (for a hop to 2.0) which injected namespaces lack the opt-in label.
 * Shared by `plan` and the upgrade command so both plan from the same inputs.
 */
import path from 'node:path';
import { load } from 'js-yaml';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { helmVersion, parseHelmMajor } from '../controlplane/helm.ts';
import { crosses, hopsBetween, normalizeVersion, releases } from '../mesh/versions.ts';
import { resolveMeshctlBinaries } from './binaries.ts';
import { findUnlabelledInjectedNamespaces } from './opt-in.ts';
import type { ChartSource, Install, PlanOptions, StrategyOption } from './types.ts';

export interface PlanArgs {
  to: string;
  strategy: StrategyOption;
  meshctl?: readonly string[] | undefined;
  meshctlCurrent?: string | undefined;
  helm?: string | undefined;
  chart?: string | undefined;
  backupDir: string;
  timeout: string;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** --deploy-flag NAME=VALUE, repeated. */
  deployFlag?: readonly string[] | undefined;
  labelNamespaces: boolean;
}

export const defaultChartRef = 'nginx-stable/nginx-service-mesh';

/** Parses --deploy-flag NAME=VALUE pairs (NAME with or without leading dashes). */
export function parseDeployFlags(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--deploy-flag ${JSON.stringify(p)} is not NAME=VALUE`, 'Use for example --deploy-flag mtls-mode=strict.');
    out[p.slice(0, eq).replace(/^-+/, '')] = p.slice(eq + 1);
  }
  return out;
}

/** Where the chart comes from: a directory with Chart.yaml, a directory of <version>/ charts, or a repo reference. */
export async function resolveChartSource(deps: Pick<Deps, 'fs'>, ref: string | undefined): Promise<ChartSource> {
  const given = ref ?? defaultChartRef;
  let isDir = false;
  try { isDir = (await deps.fs.stat(given)).isDirectory(); } catch { return { kind: 'repo', ref: given }; }
  if (!isDir) {
    const chartVersion = /-(\d+\.\d+\.\d+)\.tgz$/.exec(given)?.[1];
    const app = releases.find((r) => r.chartVersion === chartVersion)?.version ?? '';
    return { kind: 'path', path: given, version: app };
  }
  try {
    const meta = load(await deps.fs.readFile(path.join(given, 'Chart.yaml'), 'utf8')) as { appVersion?: string; version?: string } | undefined;
    return { kind: 'path', path: given, version: normalizeVersion(String(meta?.appVersion ?? meta?.version ?? '')) ?? '' };
  } catch {
    return { kind: 'versioned-dir', dir: given.replace(/\/+$/, '') };
  }
}

/** Runs `helm version --short`; undefined when helm is missing or not Helm 3/4 (the plan refuses then). */
export async function detectHelm(deps: Pick<Deps, 'exec'>, bin: string): Promise<{ bin: string; major: 3 | 4 } | undefined> {
  try {
    const res = await deps.exec.run(helmVersion(bin));
    const major = parseHelmMajor(res.stdout);
    return major ? { bin, major } : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the planner's options for this install. */
export async function gatherPlanInputs(deps: Deps, install: Install, args: PlanArgs): Promise<PlanOptions> {
  const to = normalizeVersion(args.to);
  const hops = to ? hopsBetween(install.version, to) : [];
  const toTwo = hops.some((h) => crosses(h, '2.0.0'));
  const [meshctlBinaries, helm, chart, unlabelled] = await Promise.all([
    install.method === 'meshctl' ? resolveMeshctlBinaries(deps, args.meshctl ?? [], args.meshctlCurrent, install.version, hops.map((h) => h.to)) : Promise.resolve({}),
    install.method === 'helm' ? detectHelm(deps, args.helm ?? 'helm') : Promise.resolve(undefined),
    resolveChartSource(deps, args.chart),
    // The mesh's own namespace is never injected by a real mesh: leave it out.
    toTwo ? findUnlabelledInjectedNamespaces(deps).then((l) => l.filter((n) => n !== install.namespace)) : Promise.resolve([]),
  ]);
  return {
    to: args.to,
    strategy: args.strategy,
    meshctlBinaries,
    helm,
    chart,
    deployFlagChanges: parseDeployFlags(args.deployFlag ?? []),
    labelNamespaces: args.labelNamespaces,
    unlabelledInjectedNamespaces: unlabelled,
    backupDir: args.backupDir,
    timeout: args.timeout,
    kubeconfig: args.kubeconfig,
    context: args.context,
  };
}
