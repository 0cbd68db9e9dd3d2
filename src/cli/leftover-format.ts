/** The plan's leftovers section (text): each leftover, what it breaks, and what clears it. */
import { formatCommand } from '../exec/runner.ts';
import { planCleansLeftovers } from '../engine/phases/leftovers.ts';
import type { Plan } from '../engine/types.ts';

export function formatLeftovers(plan: Plan): string[] {
  const found = plan.leftovers ?? [];
  if (found.length === 0) return [];
  const cleans = planCleansLeftovers(plan);
  const lines = [
    '',
    cleans
      ? `Leftovers of earlier removals (${found.length}): step hop1.clean-leftovers clears them after the backup:`
      : `Leftovers of earlier removals (${found.length}): the upgrade refuses to start (exit 3) until they are cleared; --clean-leftovers clears them after the backup:`,
  ];
  for (const l of found) {
    lines.push(`  - ${l.what}`, `      breaks: ${l.breaks}`);
    // Not provably the mesh's: never cleared by the tool, so the run refuses while it is there.
    if (l.foreign)
      lines.push(
        `      NOT cleared by the tool (the upgrade refuses while it is there): ${l.foreign}`,
        `      by hand: ${formatCommand(l.clear)}`,
      );
    else lines.push(`      clear:  ${formatCommand(l.clear)}`);
  }
  return lines;
}
