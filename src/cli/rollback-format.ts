/**
 * Renders a rollback plan: the upgrade plan's text (steps with their exact commands, warnings,
 * refusals) under its own heading, then what going back would lose. `-o json` prints the plan as
 * data (credentials `<redacted>`).
 */
import { formatPlanText } from './plan-format.ts';
import type { RollbackPlan } from '../rollback/types.ts';

export function formatRollbackPlan(plan: RollbackPlan, format: 'text' | 'json'): string {
  if (format === 'json') return JSON.stringify(plan, null, 2) + '\n';
  const r = plan.rollback;
  const heading = [
    `Rollback plan: NGINX Service Mesh ${plan.from} -> ${plan.to}, back to before ${r.allHops ? 'the whole run' : `hop ${r.hop}`} of the run in ${r.source}`,
  ];
  const body = formatPlanText(plan)
    .split('\n')
    .slice(1)
    .join('\n')
    .replace(/^Hop (\d+): /m, 'Back from hop $1: ');
  const lines = [...heading, body.trimEnd()];
  if (r.losses.length) {
    lines.push(
      '',
      r.forced ? 'Lost by this rollback (--force):' : 'Refused: going back would lose (nothing will run; exit 3):',
    );
    for (const l of r.losses) lines.push(`  - ${l.message}`, `    fix: ${l.fix}`);
  }
  return lines.join('\n') + '\n';
}
