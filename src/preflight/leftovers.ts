/**
 * The preflight's leftover check: what earlier removals or failed runs left that the real
 * nginx-meshctl or Helm trips over (leftovers.ts) refuses the run, one failure per leftover with
 * what it breaks and the command that clears it, unless the plan clears them (--clean-leftovers
 * adds step hop1.clean-leftovers, right after the backup). Even then, a leftover that is not
 * provably the mesh's, or one the plan did not list, refuses the run: the step would not clear it.
 * Looked for again here, not taken from the plan: the cluster may have changed since `plan`.
 */
import type { Deps } from '../deps.ts';
import { formatCommand } from '../exec/runner.ts';
import { scanLeftovers } from '../leftovers/scan.ts';
import { notApproved, planCleansLeftovers } from '../engine/phases/leftovers.ts';
import type { Plan } from '../engine/types.ts';

type Failure = { check: 'leftovers'; message: string; fix: string };

export async function checkLeftovers(deps: Deps, { plan }: { plan: Plan }): Promise<Failure[]> {
  if (plan.hops.length === 0) return [];
  const found = await scanLeftovers(deps, { namespace: plan.namespace, release: plan.release, phase: 'preflight' });
  const cleans = planCleansLeftovers(plan);
  const failures: Failure[] = found
    .filter((l) => l.foreign || !cleans)
    .map((l) => ({
      check: 'leftovers' as const,
      message: `leftover of an earlier removal: ${l.what}: ${l.breaks}${l.foreign ? `; the tool will not clear it: ${l.foreign}` : ''}`,
      fix: l.foreign
        ? `by hand, once you know whose it is: ${formatCommand(l.clear)}`
        : `${formatCommand(l.clear)}, or pass --clean-leftovers to clear it after the backup (step hop1.clean-leftovers)`,
    }));
  if (!cleans) return failures;
  return [
    ...failures,
    ...notApproved(
      found.filter((l) => !l.foreign),
      plan.leftovers ?? [],
    ).map((why) => ({
      check: 'leftovers' as const,
      message: `leftover found now: ${why}`,
      fix: 'run again: the new plan lists it (kubectl nsm-upgrade plan shows it)',
    })),
  ];
}
