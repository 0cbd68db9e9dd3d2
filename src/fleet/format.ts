/**
 * The fleet's text: the plan printed before anything runs, each cluster's task group title, and the
 * summary that says where every cluster is. Pure (data in, text out).
 */
import { table } from '../workloads/format.ts';
import type { ClusterRecord, FleetState } from './state.ts';
import type { ClusterSurvey, FleetPlan } from './types.ts';

const method = (m: string | undefined) => (m === 'meshctl' ? 'nginx-meshctl' : (m ?? '?'));

function hopsText(s: ClusterSurvey): string {
  if (s.action === 'done') return 'done before';
  if (s.action === 'up-to-date') return 'nothing to do';
  if (s.action === 'resume') return `resume its run (${s.hops.length} hop${s.hops.length === 1 ? '' : 's'})`;
  return s.hops.map((h) => `${h.from} -> ${h.to} ${h.strategy}`).join(', ') || '-';
}

function waveOf(plan: FleetPlan, context: string): string {
  const w = plan.waves.find((x) => x.contexts.includes(context));
  return w ? `${w.index}${w.canary ? ' (canary)' : ''}` : '-';
}

export function formatFleetPlan(plan: FleetPlan, fleetDir: string): string {
  const rows = [
    ['CONTEXT', 'WAVE', 'INSTALLED', 'METHOD', 'HOPS', 'STATUS'],
    ...plan.clusters.map((s) => [
      s.context,
      waveOf(plan, s.context),
      s.action === 'done' ? plan.to : (s.from ?? '?'),
      s.action === 'done' ? '-' : method(s.method),
      hopsText(s),
      s.action === 'refused'
        ? plan.skipped.includes(s.context)
          ? 'refused: left out (--skip-refused)'
          : 'REFUSED'
        : s.action,
    ]),
  ];
  let out = `Fleet plan: NGINX Service Mesh to ${plan.to} on ${plan.clusters.length} cluster${plan.clusters.length === 1 ? '' : 's'}, directory ${fleetDir}\n\n${table(rows, '  ')}`;
  if (plan.waves.length) {
    out += "\nWaves (each cluster's own run must finish converged before the next wave starts):\n";
    for (const w of plan.waves) out += `  ${w.index}. ${w.contexts.join(', ')}${w.canary ? ' (canary)' : ''}\n`;
  } else {
    out += '\nNothing to run.\n';
  }
  const warned = plan.clusters.filter((s) => s.warnings.length);
  if (warned.length || plan.warnings.length) {
    out += '\nWarnings:\n';
    for (const w of plan.warnings) out += `  - ${w}\n`;
    for (const s of warned)
      out += `  - ${s.context}: ${s.warnings.length} warning${s.warnings.length === 1 ? '' : 's'} (kubectl nsm-upgrade plan --context ${s.context} --to ${plan.to} lists them)\n`;
  }
  const refused = plan.clusters.filter((s) => s.action === 'refused');
  if (refused.length) {
    out += `\nRefused${plan.refusals.length ? ' (nothing will run until these are fixed, or --skip-refused leaves those clusters out)' : ''}:\n`;
    for (const s of refused)
      for (const r of s.refusals) out += `  - ${s.context}: [${r.check}] ${r.message}\n    fix: ${r.fix}\n`;
  }
  for (const r of plan.refusals.filter((x) => x.check === 'canary')) out += `  - ${r.message}\n    fix: ${r.fix}\n`;
  return `${out}\n`;
}

/** A cluster's task group: `[prod-eu] wave 2: 1.7.0 -> 2.0.0, nginx-meshctl, 1 hop`. */
export function groupTitle(plan: FleetPlan, s: ClusterSurvey): string {
  const what =
    s.action === 'up-to-date'
      ? `already on ${plan.to}: check it`
      : s.action === 'resume'
        ? `resume ${s.from ?? '?'} -> ${plan.to}`
        : `${s.from ?? '?'} -> ${plan.to}`;
  return `[${s.context}] wave ${waveOf(plan, s.context)}: ${what}, ${method(s.method)}, ${s.hops.length} hop${s.hops.length === 1 ? '' : 's'}`;
}

function where(r: ClusterRecord | undefined, to: string, dir: string): string {
  switch (r?.status) {
    case 'done':
      return `upgraded: on ${to}, converged`;
    case 'up-to-date':
      return `already on ${to}, converged`;
    case 'skipped':
      return `left out: refused (${r.message ?? 'see the plan'}), on ${r.from ?? '?'}`;
    case 'failed':
    case 'interrupted':
      return `${r.status === 'failed' ? 'FAILED' : 'interrupted'}${r.step ? ` at ${r.step}` : ''}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}${r.message ? `: ${r.message}` : ''}; ${r.rolledBack ? 'rolled back (--on-failure rollback), ' : ''}${r.now ? `its control plane runs ${r.now}` : 'its control plane could not be read'}; its backup and journal: ${dir}`;
    case 'running':
      return `running (pid ${r.pid ?? '?'}); its journal: ${dir}`;
    default:
      return `not started: still on ${r?.from ?? 'its version'}, untouched`;
  }
}

/** Where each cluster is at the end, and how to go on (waves as the fleet recorded them: a resumed fleet's plan lacks those done before). */
export function formatFleetSummary(state: FleetState, fleetDir: string, plan: FleetPlan): string {
  const to = state.spec.to;
  const wave = (context: string) => {
    const i = state.waves.findIndex((w) => w.includes(context));
    return i < 0 ? '-' : `${i + 1}${context === plan.canary ? ' (canary)' : ''}`;
  };
  const rows = [
    ['CONTEXT', 'WAVE', 'WHERE'],
    ...state.spec.clusters.map((c) => [
      c.context,
      wave(c.context),
      where(state.clusters[c.context], to, `${fleetDir}/${c.dir}`),
    ]),
  ];
  const records = state.spec.clusters.map((c) => state.clusters[c.context]?.status);
  const ok = records.filter((r) => r === 'done' || r === 'up-to-date').length;
  const stopped =
    records.some((r) => r === 'failed' || r === 'interrupted' || r === 'running') || state.soak === 'failed';
  let out = `\nFleet to ${to}: ${ok} of ${state.spec.clusters.length} cluster${state.spec.clusters.length === 1 ? '' : 's'} on ${to}${state.soak ? `; canary soak ${state.soak}` : ''}.\n${table(rows, '  ')}`;
  out += `Fleet directory: ${fleetDir}\n`;
  if (stopped)
    out += `Clusters not started were not touched. Fix the cause, then continue with:\n  kubectl nsm-upgrade fleet --resume ${fleetDir}\n`;
  return out;
}
