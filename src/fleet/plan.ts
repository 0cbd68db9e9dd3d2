/**
 * The fleet plan, pure: from what the survey found on each cluster (survey.ts) to waves. The canary
 * runs alone in wave 1; the other clusters that need the upgrade follow, in the fleet's order, at
 * most `maxParallel` per wave. A refused cluster refuses the whole fleet unless `skipRefused` (then
 * it is left out and listed); a refused canary always refuses it: a fleet never starts without its
 * canary. A resumed fleet keeps the waves it recorded (`waves`), minus what is done.
 */
import type { ClusterSurvey, FleetPlan, FleetRefusal, Wave } from './types.ts';

export interface FleetPlanOptions {
  to: string;
  canary?: string | undefined;
  maxParallel: number;
  skipRefused: boolean;
  /** The waves a resumed fleet recorded (contexts, canary first). */
  waves?: readonly (readonly string[])[] | undefined;
}

const runs = (s: ClusterSurvey) => s.action === 'upgrade' || s.action === 'resume';

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function planFleet(surveys: readonly ClusterSurvey[], o: FleetPlanOptions): FleetPlan {
  const byContext = new Map(surveys.map((s) => [s.context, s]));
  const refused = surveys.filter((s) => s.action === 'refused');
  const refusals: FleetRefusal[] = [];
  const warnings: string[] = [];
  if (refused.length && !o.skipRefused) {
    for (const s of refused) refusals.push(...s.refusals.map((r) => ({ ...r, context: s.context })));
  }
  const canary = o.canary ?? o.waves?.[0]?.[0] ?? surveys.find(runs)?.context;
  const canarySurvey = canary === undefined ? undefined : byContext.get(canary);
  if (canary !== undefined && !canarySurvey) {
    refusals.push({
      check: 'canary',
      message: `the canary ${canary} is not a cluster of the fleet`,
      fix: `pass --canary with one of: ${surveys.map((s) => s.context).join(', ')}`,
    });
  } else if (canarySurvey?.action === 'refused' && o.skipRefused) {
    refusals.push(...canarySurvey.refusals.map((r) => ({ ...r, context: canarySurvey.context })), {
      context: canary,
      check: 'canary',
      message: `the canary ${canary} is refused, and a fleet does not start without its canary (--skip-refused leaves out only the others)`,
      fix: 'fix what its refusal names, or pass another --canary',
    });
  }
  if (canarySurvey?.action === 'up-to-date')
    warnings.push(`the canary ${canary} is already on ${o.to}: its wave only checks it (status)`);

  let waves: string[][];
  if (o.waves) {
    waves = o.waves.map((w) =>
      w.filter((c) => {
        const s = byContext.get(c);
        return s !== undefined && (runs(s) || (c === canary && s.action === 'up-to-date'));
      }),
    );
  } else {
    const first =
      canarySurvey && canarySurvey.action !== 'refused' && canarySurvey.action !== 'done' ? [canarySurvey.context] : [];
    const rest = surveys.filter((s) => runs(s) && s.context !== canary).map((s) => s.context);
    waves = [first, ...chunk(rest, Math.max(1, o.maxParallel))];
  }
  // Numbered before the empty ones go: a resumed fleet keeps its wave numbers.
  const numbered: Wave[] = waves
    .map((contexts, i) => ({ index: i + 1, canary: canary !== undefined && contexts.includes(canary), contexts }))
    .filter((w) => w.contexts.length > 0);
  return {
    to: o.to,
    canary,
    waves: numbered,
    clusters: [...surveys],
    skipped: o.skipRefused ? refused.map((s) => s.context).filter((c) => c !== canary) : [],
    refusals,
    warnings,
  };
}
