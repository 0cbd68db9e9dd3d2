/**
 * Text output of `status` and `restart`: compact, aligned tables. Pure (strings in, string out).
 */
import { autoInjectLabel } from '../mesh/version-notes.ts';
import type { RestartPlan } from './restart-plan.ts';
import type { RestartResult } from './restart.ts';
import type { SkewReport } from './skew.ts';

/** Aligns rows into columns separated by two spaces (the last column is not padded). */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

const versions = (v: Record<string, number>): string =>
  Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`).join(' ') || '-';

export function formatSkewText(r: SkewReport): string {
  const cp = r.controlPlane;
  let out = `Control plane (namespace ${r.meshNamespace}): ${cp.version ? `version ${cp.version}` : 'not found'}\n`;
  if (cp.components.length) {
    out += table([['COMPONENT', 'KIND', 'READY', 'HEALTH'], ...cp.components.map((c) => [c.name, c.kind, `${c.ready}/${c.desired}`, c.ready >= c.desired && c.desired > 0 ? 'ok' : 'NOT READY'])], '  ');
  }
  out += `\nSidecars: ${r.pods} injected pod${r.pods === 1 ? '' : 's'} in ${r.workloads.length} workload${r.workloads.length === 1 ? '' : 's'} (${versions(r.byVersion)}), target ${r.targetVersion ?? 'unknown'}\n`;
  if (r.workloads.length) {
    out += table([['NAMESPACE', 'WORKLOAD', 'SIDECARS', 'STATUS'], ...r.workloads.map((w) => [w.namespace, `${w.kind.toLowerCase()}/${w.name}`, versions(w.versions), w.behind ? 'behind' : 'ok'])]);
  }
  if (r.optInMissing.length) {
    out += `\nNamespaces with injected workloads but no ${autoInjectLabel.key}=${autoInjectLabel.enabled} label (2.0 stops injecting them): ${r.optInMissing.join(', ')}\n`;
  }
  const behind = r.workloads.filter((w) => w.behind).length;
  out += r.converged
    ? `\nConverged: every sidecar runs ${r.targetVersion}.\n`
    : r.targetVersion === null
      ? `\nNot converged: no control plane found in namespace ${r.meshNamespace} (use --mesh-namespace).\n`
      : `\nNot converged: ${behind} workload${behind === 1 ? '' : 's'} behind ${r.targetVersion}. Run "kubectl nsm-upgrade restart" to re-roll them.\n`;
  return out;
}

export function formatRestartText(r: RestartResult): string {
  const rows: string[][] = [['NAMESPACE', 'WORKLOAD', 'RESULT', 'DETAIL']];
  const add = (list: readonly { namespace: string; kind: string; name: string }[], result: string, detail: (x: never) => string) => {
    for (const x of list) rows.push([x.namespace, `${x.kind.toLowerCase()}/${x.name}`, result, detail(x as never)]);
  };
  add(r.restarted, 'restarted', (x: { seconds: number }) => `${x.seconds}s`);
  add(r.deleted, 'deleted', () => 'bare pod deleted (not re-created)');
  add(r.timedOut, 'TIMED OUT', (x: { message: string }) => x.message);
  add(r.failed, 'FAILED', (x: { message: string }) => x.message);
  add(r.skipped, 'skipped', (x: { reason: string }) => x.reason);
  add(r.notStarted, 'NOT STARTED', (x: { message: string }) => x.message);
  let out = rows.length > 1 ? table(rows) : 'Nothing to re-roll.\n';
  out += `\n${r.restarted.length} restarted (at most ${r.concurrency} at once), ${r.skipped.length} skipped, ${r.timedOut.length} timed out, ${r.failed.length} failed, ${r.upToDate} already on ${r.targetVersion}${r.interrupted ? `; interrupted: ${r.notStarted.length} not started` : ''}.\n`;
  out += r.final.converged
    ? `Converged: every sidecar runs ${r.targetVersion} (${versions(r.final.byVersion)}).\n`
    : `Not converged: ${r.final.behind.length} workload${r.final.behind.length === 1 ? '' : 's'} still behind ${r.targetVersion} (${versions(r.final.byVersion)}): ${r.final.behind.map((w) => `${w.namespace}/${w.kind.toLowerCase()}/${w.name}`).join(', ')}\n`;
  return out;
}

/** `restart --dry-run`: what would be re-rolled, in start order, and what would be skipped. */
export function formatRestartPlanText(p: RestartPlan, target: string, concurrency: number): string {
  const rows: string[][] = [['ORDER', 'NAMESPACE', 'WORKLOAD', 'ACTION']];
  p.targets.forEach((t, i) => rows.push([String(i + 1), t.namespace, `${t.kind.toLowerCase()}/${t.name}`, `${t.action} (${t.pods} pod${t.pods === 1 ? '' : 's'})`]));
  for (const s of p.skipped) rows.push(['-', s.namespace, `${s.kind.toLowerCase()}/${s.name}`, `skip: ${s.reason}`]);
  const head = rows.length > 1 ? table(rows) : 'Nothing to re-roll.\n';
  return `${head}\n(dry run) would re-roll ${p.targets.length} workload(s), at most ${concurrency} at once, to ${target}; ${p.skipped.length} skipped, ${p.upToDate} already on ${target}.\n`;
}
