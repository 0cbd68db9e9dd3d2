/**
 * The preflight's leftover check: what earlier removals or failed runs left that the real
 * nginx-meshctl or Helm trips over (leftovers.ts) refuses the run, one failure per leftover with
 * what it breaks and the command that clears it, unless the plan clears them (--clean-leftovers
 * adds step hop1.clean-leftovers, right after the backup). Looked for again here, not taken from
 * the plan: the cluster may have changed since `plan`.
 */
import type { Deps } from '../deps.ts';
import { formatCommand } from '../controlplane/runner.ts';
import { scanLeftovers } from './leftover-scan.ts';
import { planCleansLeftovers } from './leftover-steps.ts';
import type { Plan } from './types.ts';

export async function checkLeftovers(deps: Deps, { plan }: { plan: Plan }): Promise<{ check: 'leftovers'; message: string; fix: string }[]> {
  if (plan.hops.length === 0 || planCleansLeftovers(plan)) return [];
  const found = await scanLeftovers(deps, { namespace: plan.namespace, phase: 'preflight' });
  return found.map((l) => ({
    check: 'leftovers' as const,
    message: `leftover of an earlier removal: ${l.what}: ${l.breaks}`,
    fix: `${formatCommand(l.clear)}, or pass --clean-leftovers to clear it after the backup (step hop1.clean-leftovers)`,
  }));
}
