/**
 * The rollback's options from its command line and the upgrade run it undoes:
 * - nginx-meshctl: `--meshctl` (the old version's, to deploy) and `--meshctl-current` (the running
 *   version's, to remove), resolved like the upgrade's; then the binaries the run used, when they
 *   are still private files (checked as a resume checks them); then PATH, by version;
 * - helm: `--helm`, else the run's (checked the same way), else `helm` on PATH;
 * - the chart: `--chart`, else the run's.
 * Preflight checks every binary's version against the step that runs it, as for an upgrade.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { detectHelm, resolveChartSource, resolveMeshctlBinaries } from '../upgrade/plan-inputs.ts';
import { findMeshctlOnPath, pathDirectories, type ChosenBinary } from '../upgrade/meshctl-path.ts';
import { checkOwnedPrivate } from '../upgrade/resume.ts';
import type { RollbackOptions, UpgradeRun } from './types.ts';

export interface RollbackArgs {
  from: string;
  allHops: boolean;
  force: boolean;
  meshctl?: readonly string[] | undefined;
  meshctlCurrent?: string | undefined;
  helm?: string | undefined;
  chart?: string | undefined;
  timeout: string;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  pathEnv?: string | undefined;
}

/** A binary a journal names, usable only as a file owned by the user (or root) that nobody else can write. */
async function trusted(deps: Pick<Deps, 'fs'>, bin: string): Promise<boolean> {
  try {
    await checkOwnedPrivate(deps.fs, bin, 'binary');
    return (await deps.fs.stat(bin)).isFile();
  } catch {
    return false;
  }
}

/** nginx-meshctl for `versions` (the running one first): given, then the run's, then PATH. */
export async function rollbackMeshctl(deps: Pick<Deps, 'fs' | 'exec'>, run: Pick<UpgradeRun, 'inputs'>, a: Pick<RollbackArgs, 'meshctl' | 'meshctlCurrent' | 'pathEnv'>, running: string | undefined, target: string): Promise<{ binaries: Record<string, string>; found: Record<string, ChosenBinary> }> {
  const binaries = await resolveMeshctlBinaries(deps, a.meshctl ?? [], a.meshctlCurrent, running ?? target, [target]);
  const versions = [...new Set([...(running ? [running] : []), target])];
  for (const v of versions) {
    const journaled = run.inputs.meshctlBinaries[v];
    if (!(v in binaries) && journaled && await trusted(deps, journaled)) binaries[v] = journaled;
  }
  const missing = versions.filter((v) => !(v in binaries));
  const found = missing.length ? await findMeshctlOnPath(deps, pathDirectories(a.pathEnv), missing) : {};
  for (const [v, b] of Object.entries(found)) binaries[v] = b.path;
  return { binaries, found };
}

export async function rollbackOptions(deps: Deps, run: UpgradeRun, a: RollbackArgs, running: string | undefined, target: string): Promise<RollbackOptions> {
  const meshctl = run.plan.method === 'meshctl' ? await rollbackMeshctl(deps, run, a, running, target) : { binaries: {}, found: {} };
  let helm: RollbackOptions['helm'];
  if (run.plan.method === 'helm') {
    if (a.helm) {
      helm = await detectHelm(deps, a.helm);
      if (!helm) throw new UsageError(`--helm ${a.helm} is not Helm 3 or 4`, 'Pass --helm PATH to a Helm 3.14+ or Helm 4 binary.');
    } else if (run.inputs.helm && await trusted(deps, run.inputs.helm.bin)) {
      helm = run.inputs.helm;
    } else {
      helm = await detectHelm(deps, 'helm');
    }
  }
  return {
    from: path.resolve(a.from),
    allHops: a.allHops,
    force: a.force,
    meshctlBinaries: meshctl.binaries,
    meshctlFound: meshctl.found,
    helm,
    chart: a.chart ? await resolveChartSource(deps, a.chart) : run.inputs.chart,
    timeout: a.timeout,
    // The context the tool's client was built from, once, at start: every child command gets it.
    context: deps.kube.context,
  };
}
