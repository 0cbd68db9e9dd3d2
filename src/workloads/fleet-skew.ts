/**
 * `status --contexts a,b,c`: one skew table across clusters. Each row is one cluster's skew report
 * (skew-report.ts) or why it could not be read. Pure: the CLI reads the clusters.
 */
import { table } from './format.ts';
import type { SkewReport } from './skew.ts';

export type ClusterSkew = { context: string; report: SkewReport } | { context: string; error: string };

const versions = (v: Record<string, number>): string =>
  Object.entries(v)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}=${n}`)
    .join(' ') || '-';

function controlPlane(r: SkewReport): string {
  const cp = r.controlPlane;
  if (cp.version === null) return `none in ${r.meshNamespace}`;
  const ready = cp.components.every((c) => c.desired > 0 && c.ready >= c.desired);
  return `${cp.version} (${ready ? 'ready' : 'NOT READY'})`;
}

function converged(r: SkewReport): string {
  if (r.converged) return 'yes';
  if (r.targetVersion === null) return 'no: no control plane';
  const behind = r.workloads.filter((w) => w.behind).length;
  return `no: ${behind} workload${behind === 1 ? '' : 's'} behind`;
}

/** The clusters' state as exit codes see it: unreadable (1) before not converged (4) before converged (0). */
export function fleetSkewOutcome(rows: readonly ClusterSkew[]): 'unreadable' | 'not-converged' | 'converged' {
  if (rows.some((r) => 'error' in r)) return 'unreadable';
  return rows.every((r) => 'report' in r && r.report.converged) ? 'converged' : 'not-converged';
}

export function formatFleetSkewText(rows: readonly ClusterSkew[]): string {
  let out = table([
    ['CONTEXT', 'CONTROL PLANE', 'SIDECARS', 'CONVERGED'],
    ...rows.map((r) =>
      'error' in r
        ? [r.context, '?', '?', `unknown: ${r.error}`]
        : [r.context, controlPlane(r.report), versions(r.report.byVersion), converged(r.report)],
    ),
  ]);
  const planes = new Map<string, string[]>();
  for (const r of rows)
    if ('report' in r && r.report.controlPlane.version)
      planes.set(r.report.controlPlane.version, [...(planes.get(r.report.controlPlane.version) ?? []), r.context]);
  if (planes.size > 1)
    out += `\nControl planes on ${planes.size} versions: ${[...planes].map(([v, cs]) => `${v} (${cs.join(', ')})`).join(', ')}.\n`;
  const outcome = fleetSkewOutcome(rows);
  out +=
    outcome === 'converged'
      ? `\nEvery cluster converged.\n`
      : outcome === 'unreadable'
        ? '\nSome clusters could not be read.\n'
        : '\nNot every cluster converged: `kubectl nsm-upgrade status --context C` shows the workloads behind.\n';
  return out;
}
