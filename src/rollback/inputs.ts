/**
 * The rollback's options from its command line and the upgrade run it undoes:
 * - nginx-meshctl: `--meshctl` (the old version's, to deploy) and `--meshctl-current` (the running
 *   version's, to remove), resolved like the upgrade's (a file's own `version` says which it is);
 *   then PATH, by version;
 * - helm: `--helm`, else `helm` on PATH;
 * - the chart: `--chart`, else the default reference.
 * Nothing executable is taken from the run's journal (binary-digests.ts says why).
 * Preflight checks every binary's version against the step that runs it, as for an upgrade.
 */
import type { BinaryOptions, ClusterOptions, StepTimeout } from '../engine/option-groups.ts';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { defaultChartRef, findHelm, resolveChartSource, resolveMeshctlBinaries } from '../upgrade/plan-inputs.ts';
import { findMeshctlOnPath, pathDirectories, type ChosenBinary } from '../controlplane/meshctl-path.ts';
import { chartRef } from '../engine/binary-digests.ts';
import type { ChartSource } from '../engine/types.ts';
import type { RollbackOptions, UpgradeRun } from './types.ts';

/** The rollback's command line: which run (--from), how far, and the shared cluster, binary and timeout options. */
export interface RollbackArgs extends ClusterOptions, BinaryOptions, StepTimeout {
  from: string;
  allHops: boolean;
  force: boolean;
}

/** nginx-meshctl for `versions` (the running one first): given, then PATH by version; never the run's journal. */
export async function rollbackMeshctl(
  deps: Pick<Deps, 'fs' | 'exec'>,
  a: Pick<RollbackArgs, 'meshctl' | 'meshctlCurrent' | 'pathEnv'>,
  running: string | undefined,
  target: string,
): Promise<{ binaries: Record<string, string>; found: Record<string, ChosenBinary> }> {
  const binaries = await resolveMeshctlBinaries(deps, a.meshctl ?? [], a.meshctlCurrent, running ?? target, [target]);
  const versions = [...new Set([...(running ? [running] : []), target])];
  const missing = versions.filter((v) => !(v in binaries));
  const found = missing.length ? await findMeshctlOnPath(deps, pathDirectories(a.pathEnv), missing) : {};
  for (const [v, b] of Object.entries(found)) binaries[v] = b.path;
  return { binaries, found };
}

/** --helm, else helm on PATH (the file that runs); refuses a --helm that is not Helm 3 or 4. */
export async function rollbackHelm(
  deps: Pick<Deps, 'fs' | 'exec'>,
  a: Pick<RollbackArgs, 'helm' | 'pathEnv'>,
): Promise<RollbackOptions['helm']> {
  const helm = await findHelm(deps, a.helm, a.pathEnv);
  if (a.helm && !helm)
    throw new UsageError(`--helm ${a.helm} is not Helm 3 or 4`, 'Pass --helm PATH to a Helm 3.14+ or Helm 4 binary.');
  return helm;
}

/**
 * The chart: --chart, else the default reference, as for a fresh run; never the run's journal. A
 * Helm run that used another chart is refused without --chart, naming it, so the rollback does not
 * silently reach for another source.
 */
async function rollbackChart(
  deps: Pick<Deps, 'fs'>,
  run: Pick<UpgradeRun, 'inputs' | 'plan'>,
  a: Pick<RollbackArgs, 'chart'>,
  target: string,
): Promise<ChartSource> {
  const chart = await resolveChartSource(deps, a.chart);
  const used = chartRef(run.inputs.chart);
  if (!a.chart && run.plan.method === 'helm' && used !== chartRef(chart)) {
    throw new UsageError(
      `the run used the chart ${used}; a rollback takes its chart from --chart (default ${defaultChartRef}), never from the run's journal`,
      `Pass --chart ${used} again (after checking it), or another source of the NSM ${target} chart.`,
    );
  }
  return chart;
}

export async function rollbackOptions(
  deps: Deps,
  run: UpgradeRun,
  a: RollbackArgs,
  running: string | undefined,
  target: string,
): Promise<RollbackOptions> {
  const meshctl =
    run.plan.method === 'meshctl' ? await rollbackMeshctl(deps, a, running, target) : { binaries: {}, found: {} };
  return {
    from: path.resolve(a.from),
    allHops: a.allHops,
    force: a.force,
    meshctlBinaries: meshctl.binaries,
    meshctlFound: meshctl.found,
    helm: run.plan.method === 'helm' ? await rollbackHelm(deps, a) : undefined,
    chart: await rollbackChart(deps, run, a, target),
    timeout: a.timeout,
    // The context the tool's client was built from, once, at start: every child command gets it.
    context: deps.kube.context,
  };
}
