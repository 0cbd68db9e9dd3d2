/**
 * Renders a Plan for people (text) and programs (json, yaml). `plan` prints it; the upgrade
 * command's --dry-run prints the same.
 */
import { dump } from 'js-yaml';
import { formatCommand } from '../exec/runner.ts';
import type { Plan } from '../engine/types.ts';
import { redactDeep } from '../secret.ts';
import { formatLeftovers } from './leftover-format.ts';
import { formatHopSettings } from './settings-format.ts';
import { formatHopImages } from './images-format.ts';

export function formatPlanText(plan: Plan): string {
  const lines: string[] = [];
  const method = plan.method === 'meshctl' ? 'nginx-meshctl' : 'helm';
  lines.push(`Upgrade plan: NGINX Service Mesh ${plan.from} -> ${plan.to}`);
  lines.push(
    `  namespace ${plan.namespace}, installed with ${method}${plan.release ? ` (release ${plan.release})` : ''}, environment ${plan.environment}`,
  );
  const child = plan.childKubeconfig;
  if (child)
    lines.push(
      `  context ${child.context ?? '(current)'}, as read at start: every helm and nginx-meshctl command gets a private kubeconfig of exactly it (${child.path}, 0600, removed after the run)`,
    );
  for (const hop of plan.hops) {
    lines.push('', `Hop ${hop.index}: ${hop.from} -> ${hop.to}, ${hop.strategy} (${hop.reason})`);
    const width = Math.max(...hop.steps.map((s) => s.id.length));
    for (const s of hop.steps) {
      lines.push(`  ${s.id.padEnd(width)}  ${s.title}${s.destructive ? '  [changes the cluster]' : ''}`);
      for (const c of s.commands) lines.push(`  ${' '.repeat(width)}    $ ${formatCommand(c)}`);
    }
    lines.push(...formatHopSettings(hop), ...formatHopImages(hop));
  }
  if (plan.hops.length === 0 && plan.refusals.length === 0) lines.push('', 'Nothing to do.');
  if (plan.binaries?.length) {
    lines.push('', 'nginx-meshctl binaries (not given on the command line):');
    for (const b of plan.binaries) lines.push(`  ${b.version}: ${b.path}  (${b.why})`);
  }
  lines.push(...formatLeftovers(plan));
  if (plan.warnings.length) {
    lines.push('', 'Warnings:');
    for (const w of plan.warnings) {
      lines.push(`  - ${w.hop ? `[hop ${w.hop}] ` : ''}${w.message}`);
      for (const item of w.items) lines.push(`      ${item}`);
    }
  }
  if (plan.refusals.length) {
    lines.push('', 'Refused (nothing will run until these are fixed):');
    for (const r of plan.refusals) lines.push(`  - ${r.message}`, `    fix: ${r.fix}`);
  }
  return lines.join('\n') + '\n';
}

export function formatPlan(plan: Plan, format: 'text' | 'json' | 'yaml'): string {
  if (format === 'json') return JSON.stringify(plan, null, 2) + '\n';
  // Through JSON first: every Secret becomes <redacted> (js-yaml would print a class as {}).
  if (format === 'yaml') return dump(redactDeep(plan), { noRefs: true, lineWidth: 120 });
  return formatPlanText(plan);
}
