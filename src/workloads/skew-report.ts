/**
 * `skewReport`: the control plane's version and health against every injected workload's sidecar
 * versions. Used by `status`, by `restart` to pick what is behind and to check convergence, and by
 * the upgrade executor. The reads run concurrently; the report itself is built by skew.ts.
 */
import type { Deps } from '../deps.ts';
import { readControlPlane } from './control-plane.ts';
import { discoverInjectedWorkloads, namespaceLabels } from './discover.ts';
import type { InjectedWorkload } from './owners.ts';
import { buildSkewReport, type SkewReport } from './skew.ts';

export interface SkewOptions {
  meshNamespace: string;
  /** The version sidecars should run (default: the control plane's). */
  targetVersion?: string | undefined;
  /** Only injected workloads in this namespace (default: every namespace). */
  namespace?: string | undefined;
}

export interface SkewDetail {
  report: SkewReport;
  /** The workloads with their pods, for callers that act on them (restart). */
  workloads: InjectedWorkload[];
}

export async function skewDetail(deps: Pick<Deps, 'kube'>, opts: SkewOptions): Promise<SkewDetail> {
  const [controlPlane, discovery, labels] = await Promise.all([
    readControlPlane(deps, opts.meshNamespace),
    discoverInjectedWorkloads(deps, opts.namespace),
    namespaceLabels(deps),
  ]);
  const report = buildSkewReport({
    meshNamespace: opts.meshNamespace,
    targetVersion: opts.targetVersion,
    controlPlane,
    workloads: discovery.workloads,
    namespaceLabels: labels,
  });
  return { report, workloads: discovery.workloads };
}

export async function skewReport(deps: Pick<Deps, 'kube'>, opts: SkewOptions): Promise<SkewReport> {
  return (await skewDetail(deps, opts)).report;
}
