/**
 * Text output of `status` and `restart`: compact, aligned tables. Pure (strings in, string out).
 */
import { autoInjectLabel } from '../mesh/version-notes.ts';
import type { RestartPlan } from './restart-plan.ts';
import type { RestartResult } from './restart.ts';
import type { SkewReport } from './skew.ts';
import { workloadKey, type WorkloadRef } from './owners.ts';
import type { RestartRecord, RestartState } from './restart-record.ts';

/** Aligns rows into columns separated by two spaces (the last column is not padded). */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  return (
    rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') +
    '\n'
  );
}

const versions = (v: Record<string, number>): string =>
  Object.entries(v)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}=${n}`)
    .join(' ') || '-';

const restartWords: Record<RestartState, string> = {
  pending: 'not reached',
  rolled: 'restarted',
  evicted: 'evicted',
  failed: 'FAILED',
  'timed-out': 'TIMED OUT',
  'not-started': 'not reached',
  skipped: 'skipped',
};

/** What the last restart did to one workload, for status's LAST RESTART column ('-': not part of it). */
export function restartCell(record: RestartRecord | undefined, w: WorkloadRef): string {
  const e = record?.workloads[workloadKey(w)];
  if (!e) return '-';
  return e.reason && (e.state === 'failed' || e.state === 'timed-out')
    ? `${restartWords[e.state]}: ${e.reason}`
    : restartWords[e.state];
}

/** The line about the last restart above status's table. */
function restartLine(record: RestartRecord): string {
  const counts = new Map<string, number>();
  for (const e of Object.values(record.workloads))
    counts.set(restartWords[e.state], (counts.get(restartWords[e.state]) ?? 0) + 1);
  const state = {
    running: 'running (or killed while running)',
    'stopped-at-gate': `stopped at the failure gate (--max-failures ${record.maxFailures})`,
    interrupted: 'interrupted',
    finished: 'finished',
  }[record.state];
  return `Last restart: ${record.operation} run ${record.runId} to ${record.targetVersion}, ${state}, at ${record.updatedAt} (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')})${record.state === 'finished' ? '' : '; continue it with "kubectl nsm-upgrade restart"'}\n`;
}

export function formatSkewText(r: SkewReport, lastRestart?: RestartRecord): string {
  const cp = r.controlPlane;
  let out = `Control plane (namespace ${r.meshNamespace}): ${cp.version ? `version ${cp.version}` : 'not found'}\n`;
  if (cp.components.length) {
    out += table(
      [
        ['COMPONENT', 'KIND', 'READY', 'HEALTH'],
        ...cp.components.map((c) => [
          c.name,
          c.kind,
          `${c.ready}/${c.desired}`,
          c.ready >= c.desired && c.desired > 0 ? 'ok' : 'NOT READY',
        ]),
      ],
      '  ',
    );
  }
  out += `\nSidecars: ${r.pods} injected pod${r.pods === 1 ? '' : 's'} in ${r.workloads.length} workload${r.workloads.length === 1 ? '' : 's'} (${versions(r.byVersion)}), target ${r.targetVersion ?? 'unknown'}\n`;
  if (lastRestart) out += restartLine(lastRestart);
  if (r.workloads.length) {
    const head = ['NAMESPACE', 'WORKLOAD', 'SIDECARS', 'STATUS', ...(lastRestart ? ['LAST RESTART'] : [])];
    out += table([
      head,
      ...r.workloads.map((w) => [
        w.namespace,
        `${w.kind.toLowerCase()}/${w.name}`,
        versions(w.versions),
        w.behind ? 'behind' : 'ok',
        ...(lastRestart ? [restartCell(lastRestart, w)] : []),
      ]),
    ]);
  }
  if (r.optInMissing.length) {
    out += `\nNamespaces with injected workloads but no ${autoInjectLabel.key}=${autoInjectLabel.enabled} label (2.0 stops injecting them): ${r.optInMissing.join(', ')}\n`;
  }
  const behind = r.workloads.filter((w) => w.behind).length;
  out += r.converged
    ? `\nConverged: every sidecar runs ${r.targetVersion}.\n`
    : r.targetVersion === null
      ? `\nNot converged: no control plane found in namespace ${r.meshNamespace} (use --mesh-namespace).\n`
      : `\nNot converged: ${behind} workload${behind === 1 ? '' : 's'} behind ${r.targetVersion}. Run "kubectl nsm-upgrade restart" to restart them.\n`;
  return out;
}

/** `restart`'s result: a row per workload, then what happened and, when it stopped short, how to go on. */
export function formatRestartText(r: RestartResult, continueWith = 'kubectl nsm-upgrade restart'): string {
  const rows: string[][] = [['NAMESPACE', 'WORKLOAD', 'RESULT', 'DETAIL']];
  const add = (
    list: readonly { namespace: string; kind: string; name: string }[],
    result: string,
    detail: (x: never) => string,
  ) => {
    for (const x of list) rows.push([x.namespace, `${x.kind.toLowerCase()}/${x.name}`, result, detail(x as never)]);
  };
  const withReason = (x: { message: string; reason?: string }) =>
    x.reason ? `${x.message}; reason: ${x.reason}` : x.message;
  add(r.restarted, 'restarted', (x: { seconds: number }) => `${x.seconds}s`);
  add(r.evicted, 'evicted', () => 'bare pod evicted (not re-created)');
  add(r.timedOut, 'TIMED OUT', withReason);
  add(r.failed, 'FAILED', withReason);
  add(r.skipped, 'skipped', (x: { reason: string }) => x.reason);
  add(r.notStarted, 'NOT STARTED', (x: { message: string }) => x.message);
  let out = rows.length > 1 ? table(rows) : 'Nothing to restart.\n';
  const continued = r.continued ? `, ${r.continued} brought over by the restart this one continued` : '';
  out += `\n${r.restarted.length} restarted (slow start from 1, at most ${r.concurrency} at once), ${r.skipped.length} skipped, ${r.timedOut.length} timed out, ${r.failed.length} failed, ${r.upToDate} already on ${r.targetVersion}${continued}${r.interrupted ? `; interrupted: ${r.notStarted.length} not started` : ''}.\n`;
  if (r.stoppedAtGate) {
    out +=
      `Stopped at the failure gate: ${r.failed.length + r.timedOut.length} workload(s) failed (--max-failures ${r.maxFailures}), so ${r.notStarted.length} were not started.\n` +
      `Fix the cause named above (or take a failed workload back to its previous revision: kubectl nsm-upgrade restart --undo NAMESPACE/KIND/NAME), then continue with:\n  ${continueWith}\n`;
  } else if (r.interrupted && r.notStarted.length) {
    out += `Continue with:\n  ${continueWith}\n`;
  }
  out += r.final.converged
    ? `Converged: every sidecar runs ${r.targetVersion} (${versions(r.final.byVersion)}).\n`
    : `Not converged: ${r.final.behind.length} workload${r.final.behind.length === 1 ? '' : 's'} still behind ${r.targetVersion} (${versions(r.final.byVersion)}): ${r.final.behind.map((w) => `${w.namespace}/${w.kind.toLowerCase()}/${w.name}`).join(', ')}\n`;
  return out;
}

/** `restart --dry-run`: what would be restarted, in start order, and what would be skipped. */
export function formatRestartPlanText(p: RestartPlan, target: string, concurrency: number): string {
  const rows: string[][] = [['ORDER', 'NAMESPACE', 'WORKLOAD', 'ACTION']];
  p.targets.forEach((t, i) =>
    rows.push([
      String(i + 1),
      t.namespace,
      `${t.kind.toLowerCase()}/${t.name}`,
      `${t.action} (${t.pods} pod${t.pods === 1 ? '' : 's'})`,
    ]),
  );
  for (const s of p.skipped) rows.push(['-', s.namespace, `${s.kind.toLowerCase()}/${s.name}`, `skip: ${s.reason}`]);
  const head = rows.length > 1 ? table(rows) : 'Nothing to restart.\n';
  return `${head}\n(dry run) would restart ${p.targets.length} workload(s) to ${target}, the first alone, then widening up to ${concurrency} at once as workloads finish healthy; ${p.skipped.length} skipped, ${p.upToDate} already on ${target}${p.continued ? `, ${p.continued} brought over by the stopped restart it continues` : ''}.\n`;
}

/**
 * A restart's problems as the lines of an upgrade's or rollback's summary: workloads skipped (with
 * why), failed or timed out (with the cluster's reason), and, when it stopped at the failure gate or
 * was interrupted, the ones not started and the command that continues.
 */
export function restartUnresolved(r: RestartResult, continueWith: string): string[] {
  const name = (w: { kind: string; namespace: string; name: string }) => `${w.kind} ${w.namespace}/${w.name}`;
  const lines = [
    ...r.skipped.map((s) => `${name(s)}: ${s.reason}`),
    ...[...r.timedOut, ...r.failed].map((t) => `${name(t)}: ${t.message}${t.reason ? `; reason: ${t.reason}` : ''}`),
  ];
  if (r.notStarted.length) {
    const why = r.stoppedAtGate
      ? `the restart stopped at the failure gate (--max-failures ${r.maxFailures})`
      : 'the restart was interrupted';
    lines.push(
      `${r.notStarted.length} workload(s) not restarted: ${why}: ${r.notStarted.slice(0, 10).map(name).join(', ')}${r.notStarted.length > 10 ? ', ...' : ''}. Fix the cause (or put a failed workload back: kubectl nsm-upgrade restart --undo NAMESPACE/KIND/NAME), then continue with: ${continueWith}`,
    );
  }
  return lines;
}
