/**
 * The skew report, built from what discovery found: which workloads run a sidecar other than the
 * target version, how many pods per version, and which namespaces 2.0 would stop injecting.
 * Pure: `skewReport` in skew-report.ts does the reads.
 */
import type { ControlPlane } from './control-plane.ts';
import { autoInjectLabel } from '../mesh/version-notes.ts';
import type { InjectedWorkload, WorkloadKind } from './owners.ts';

export interface WorkloadSkew {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  /** Sidecar version -> number of live pods running it. */
  versions: Record<string, number>;
  /** Some pod runs a sidecar other than the target version. */
  behind: boolean;
}

export interface SkewReport {
  meshNamespace: string;
  /** The version sidecars should run: the one asked for, else the control plane's. */
  targetVersion: string | null;
  controlPlane: ControlPlane;
  workloads: WorkloadSkew[];
  /** Sidecar version -> number of live injected pods, over all workloads. */
  byVersion: Record<string, number>;
  pods: number;
  /** Namespaces with injected workloads and no `injector.nsm.nginx.com/auto-inject=enabled` (2.0 opt-in). */
  optInMissing: string[];
  /** Every sidecar runs the target version (and a target is known). */
  converged: boolean;
}

export interface SkewInput {
  meshNamespace: string;
  targetVersion?: string | undefined;
  controlPlane: ControlPlane;
  workloads: readonly InjectedWorkload[];
  /** Labels of the namespaces that hold injected workloads (a missing entry: no labels). */
  namespaceLabels: ReadonlyMap<string, Record<string, string> | undefined>;
}

function count(versions: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of versions) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function buildSkewReport(input: SkewInput): SkewReport {
  const target = input.targetVersion ?? input.controlPlane.version ?? null;
  const workloads: WorkloadSkew[] = input.workloads.map((w) => ({
    namespace: w.namespace,
    kind: w.kind,
    name: w.name,
    versions: count(w.pods.map((p) => p.version)),
    behind: target === null || w.pods.some((p) => p.version !== target),
  }));
  const allVersions = input.workloads.flatMap((w) => w.pods.map((p) => p.version));
  const optIn = new Set<string>();
  for (const w of input.workloads) {
    const nsEnabled = input.namespaceLabels.get(w.namespace)?.[autoInjectLabel.key] === autoInjectLabel.enabled;
    // 2.0 honours the label on the pod as well, so a workload whose pods all carry it keeps injection.
    if (!nsEnabled && !w.pods.every((p) => p.optedIn)) optIn.add(w.namespace);
  }
  return {
    meshNamespace: input.meshNamespace,
    targetVersion: target,
    controlPlane: input.controlPlane,
    workloads,
    byVersion: count(allVersions),
    pods: allVersions.length,
    optInMissing: [...optIn].sort(),
    converged: target !== null && workloads.every((w) => !w.behind),
  };
}
