/**
 * The two places a run deals with leftovers (leftovers.ts):
 * - step hop1.clean-leftovers (--clean-leftovers), right after the backup: looks again and clears
 *   exactly what the approved plan listed (the plan is journaled, so a resume clears the same
 *   list). Identity is kind, namespace, name and uid: a leftover found now that the plan did not
 *   list (a new object, or another under the same name), a stuck namespace now held by an object
 *   the plan did not list, or one not provably the mesh's is a refusal, and nothing is cleared;
 *   one the plan listed that is gone now is skipped.
 * - the start of every deploy step, once no mesh is installed: what the removal (or an older one)
 *   left that the deploy would trip over. Cleared when the run has --clean-leftovers and it is
 *   provably the mesh's; otherwise the step stops before deploying, naming each with the command
 *   that clears it (then --resume).
 */
import type { Deps } from '../../deps.ts';
import { StepError } from '../../errors.ts';
import { clearLeftovers, leftoverList } from '../../leftovers/clear.ts';
import { scanLeftovers } from '../../leftovers/scan.ts';
import { leftoverKey } from '../../leftovers/leftovers.ts';
import type { Leftover } from '../../leftovers/types.ts';
import { installedNow } from '../../mesh/live-state.ts';
import type { Plan } from '../types.ts';
import { step, type Executors } from '../step.ts';

interface Opts {
  namespace: string;
  release?: string | undefined;
  timeoutMs: number;
  progress: (m: string) => void;
  signal?: AbortSignal;
}

/** Does the plan clear leftovers (--clean-leftovers)? */
export function planCleansLeftovers(plan: Pick<Plan, 'hops'>): boolean {
  return plan.hops.some((h) => h.steps.some((s) => s.kind === 'clean-leftovers'));
}

const holderKey = (h: NonNullable<Leftover['holders']>[number]) => `${h.path}/${h.uid ?? ''}`;

/** Pure: what found now the approved list does not cover (not listed, or a namespace held by an object not listed), one line each. */
export function notApproved(found: readonly Leftover[], approved: readonly Leftover[]): string[] {
  const listed = new Map(approved.map((l) => [leftoverKey(l), l]));
  return found.flatMap((l) => {
    const planned = listed.get(leftoverKey(l));
    if (!planned) return [`${l.what}${l.uid ? ` (uid ${l.uid})` : ''}: the approved plan did not list it`];
    const known = new Set((planned.holders ?? []).map(holderKey));
    const added = (l.holders ?? []).filter((h) => !known.has(holderKey(h)));
    return added.length
      ? [
          `${l.what}: now also held by ${added.map((h) => `${h.resource}/${h.name}`).join(', ')}, which the approved plan did not list`,
        ]
      : [];
  });
}

/** Step hop1.clean-leftovers: `approved` is the plan's list (the step's params.found). */
export async function cleanLeftoversNow(
  deps: Deps,
  opts: Opts & { approved: readonly Leftover[] },
): Promise<{ skipped?: string; data?: { cleared: string[] } }> {
  const found = await scanLeftovers(deps, { namespace: opts.namespace, release: opts.release, phase: 'preflight' });
  if (found.length === 0) return { skipped: 'no leftovers found' };
  const unapproved = notApproved(found, opts.approved);
  if (unapproved.length) {
    throw new StepError(
      'clean-leftovers',
      `found what the approved plan did not list; nothing was cleared:\n${unapproved.map((u) => `  - ${u}`).join('\n')}`,
      'Look at each (kubectl nsm-upgrade plan lists them again); clear it yourself, or start a new run whose plan lists it.',
    );
  }
  const cleared = await clearLeftovers(deps, found, opts);
  return { data: { cleared } };
}

/** Before a deploy: clears (with --clean-leftovers) or refuses what a removal left. Returns what it cleared. */
export async function leftoversBeforeDeploy(
  deps: Deps,
  opts: Opts & { plan: Plan; release: string | undefined },
): Promise<string[]> {
  // A mesh is installed (a resumed run whose deploy went through): its own objects are not leftovers.
  if (await installedNow(deps, opts.namespace, opts.release)) return [];
  const found = await scanLeftovers(deps, { namespace: opts.namespace, release: opts.release, phase: 'before-deploy' });
  if (found.length === 0) return [];
  if (!planCleansLeftovers(opts.plan) || found.some((l) => l.foreign)) {
    throw new StepError(
      'deploy',
      `the removal left ${found.length} thing(s) the deploy would trip over; nothing was deployed:\n${leftoverList(found)}`,
      found.some((l) => l.foreign)
        ? 'Deal with each as it says, then resume.'
        : 'Clear them with the commands above, then resume. (A run started with --clean-leftovers clears them itself.)',
    );
  }
  opts.progress(`clearing ${found.length} leftover(s) of the removal: ${found.map((l) => l.what).join('; ')}`);
  return clearLeftovers(deps, found, opts);
}

/** Right after hop 1's backup (a CRD it clears goes only once its objects are saved), before anything that creates pods. */
export function cleanLeftoversStep(n: number, p: { namespace: string; found: readonly Leftover[] }) {
  return step(
    n,
    'clean-leftovers',
    `Clear what earlier removals left behind (${p.found.length ? p.found.map((l) => l.what).join('; ') : 'none found when planning; looked for again'})`,
    { destructive: true },
    [],
    { namespace: p.namespace, found: [...p.found] },
  );
}

export const leftoverExecutors: Executors<'clean-leftovers'> = {
  'clean-leftovers': (ctx) =>
    cleanLeftoversNow(ctx.deps, {
      namespace: ctx.step.params.namespace,
      release: ctx.plan.release,
      approved: ctx.step.params.found,
      timeoutMs: ctx.timeoutMs,
      progress: ctx.progress,
      signal: ctx.signal,
    }),
};
