/**
 * The two places a run deals with leftovers (leftovers.ts):
 * - step hop1.clean-leftovers (--clean-leftovers), right after the backup: looks again and clears
 *   what it finds (the mesh is still installed: the preflight's view);
 * - the start of every deploy step, once no mesh is installed: what the removal (or an older one)
 *   left that the deploy would trip over. Cleared when the run has --clean-leftovers; otherwise
 *   the step stops before deploying, naming each with the command that clears it (then --resume).
 */
import type { Deps } from '../deps.ts';
import { StepError } from '../errors.ts';
import { clearLeftovers, leftoverList } from './leftover-clear.ts';
import { scanLeftovers } from './leftover-scan.ts';
import { installedNow } from './live-state.ts';
import type { Plan } from './types.ts';

interface Opts { namespace: string; timeoutMs: number; progress: (m: string) => void; signal?: AbortSignal }

/** Does the plan clear leftovers (--clean-leftovers)? */
export function planCleansLeftovers(plan: Pick<Plan, 'hops'>): boolean {
  return plan.hops.some((h) => h.steps.some((s) => s.kind === 'clean-leftovers'));
}

/** Step hop1.clean-leftovers. */
export async function cleanLeftoversNow(deps: Deps, opts: Opts): Promise<{ skipped?: string; data?: Record<string, unknown> }> {
  const found = await scanLeftovers(deps, { namespace: opts.namespace, phase: 'preflight' });
  if (found.length === 0) return { skipped: 'no leftovers found' };
  const cleared = await clearLeftovers(deps, found, opts);
  return { data: { cleared } };
}

/** Before a deploy: clears (with --clean-leftovers) or refuses what a removal left. Returns what it cleared. */
export async function leftoversBeforeDeploy(deps: Deps, opts: Opts & { plan: Plan; release: string | undefined }): Promise<string[]> {
  // A mesh is installed (a resumed run whose deploy went through): its own objects are not leftovers.
  if (await installedNow(deps, opts.namespace, opts.release)) return [];
  const found = await scanLeftovers(deps, { namespace: opts.namespace, phase: 'before-deploy' });
  if (found.length === 0) return [];
  if (!planCleansLeftovers(opts.plan)) {
    throw new StepError('deploy', `the removal left ${found.length} thing(s) the deploy would trip over; nothing was deployed:\n${leftoverList(found)}`,
      'Clear them with the commands above, then resume. (A run started with --clean-leftovers clears them itself.)');
  }
  opts.progress(`clearing ${found.length} leftover(s) of the removal: ${found.map((l) => l.what).join('; ')}`);
  return clearLeftovers(deps, found, opts);
}
