import { describe, expect, it } from 'vitest';
import { planFleet, type FleetPlanOptions } from '../../../src/fleet/plan.ts';
import type { ClusterAction, ClusterSurvey } from '../../../src/fleet/types.ts';

/** A survey: `a:upgrade`, `b:refused`, ... */
function surveys(spec: string): ClusterSurvey[] {
  return spec.split(' ').map((x) => {
    const [context, action] = x.split(':') as [string, ClusterAction];
    return {
      context,
      action,
      from: '1.7.0',
      method: 'meshctl',
      hops: action === 'upgrade' ? [{ from: '1.7.0', to: '2.0.0', strategy: 'in-place' }] : [],
      steps: [],
      warnings: [],
      refusals:
        action === 'refused'
          ? [{ check: 'permissions', message: `${context}: not allowed`, fix: 'use an admin context' }]
          : [],
    };
  });
}

const base: FleetPlanOptions = { to: '2.0.0', maxParallel: 1, skipRefused: false };

describe('planFleet: waves', () => {
  const cases: {
    name: string;
    clusters: string;
    o?: Partial<FleetPlanOptions>;
    waves: string[][];
    canary: string | undefined;
    refused?: string[];
    skipped?: string[];
    warning?: RegExp;
  }[] = [
    {
      name: 'the first cluster is the canary, then one at a time',
      clusters: 'a:upgrade b:upgrade c:upgrade',
      waves: [['a'], ['b'], ['c']],
      canary: 'a',
    },
    {
      name: '--max-parallel 2: the canary alone, then two at a time',
      clusters: 'a:upgrade b:upgrade c:upgrade d:upgrade',
      o: { maxParallel: 2 },
      waves: [['a'], ['b', 'c'], ['d']],
      canary: 'a',
    },
    {
      name: '--canary picks it; the others keep the fleet order',
      clusters: 'a:upgrade b:upgrade c:upgrade',
      o: { canary: 'b', maxParallel: 5 },
      waves: [['b'], ['a', 'c']],
      canary: 'b',
    },
    {
      name: 'a cluster already on the target is left out; the canary is the first that needs the upgrade',
      clusters: 'a:up-to-date b:upgrade c:upgrade',
      waves: [['b'], ['c']],
      canary: 'b',
    },
    {
      name: 'a --canary already on the target is only checked in its wave, with a warning',
      clusters: 'a:up-to-date b:upgrade',
      o: { canary: 'a' },
      waves: [['a'], ['b']],
      canary: 'a',
      warning: /already on 2\.0\.0/,
    },
    { name: 'nothing to do: no wave, no canary', clusters: 'a:up-to-date b:up-to-date', waves: [], canary: undefined },
    {
      name: 'a refused cluster refuses the whole fleet',
      clusters: 'a:upgrade b:refused c:upgrade',
      waves: [['a'], ['c']],
      canary: 'a',
      refused: ['b'],
    },
    {
      name: 'every refusal of every cluster is listed',
      clusters: 'a:refused b:refused',
      waves: [],
      canary: undefined,
      refused: ['a', 'b'],
    },
    {
      name: '--skip-refused leaves a refused cluster out',
      clusters: 'a:upgrade b:refused c:upgrade',
      o: { skipRefused: true },
      waves: [['a'], ['c']],
      canary: 'a',
      skipped: ['b'],
    },
    {
      name: '--skip-refused: a refused first cluster is left out and the next one is the canary',
      clusters: 'a:refused b:upgrade c:upgrade',
      o: { skipRefused: true },
      waves: [['b'], ['c']],
      canary: 'b',
      skipped: ['a'],
    },
    {
      name: '--skip-refused never leaves out the --canary: the fleet is refused',
      clusters: 'a:refused b:upgrade',
      o: { skipRefused: true, canary: 'a' },
      waves: [['b']],
      canary: 'a',
      refused: ['a', 'a'],
    },
    {
      name: 'a --canary that is not in the fleet is refused',
      clusters: 'a:upgrade',
      o: { canary: 'x' },
      waves: [['a']],
      canary: 'x',
      refused: [undefined as unknown as string],
    },
    {
      name: 'resume: the recorded waves, minus what is done; wave numbers kept',
      clusters: 'a:done b:resume c:upgrade d:done',
      o: { waves: [['a'], ['b', 'c'], ['d']] },
      waves: [['b', 'c']],
      canary: 'a',
    },
    {
      name: 'resume: a cluster refused (left out) stays out',
      clusters: 'a:done b:refused c:upgrade',
      o: { waves: [['a'], ['b'], ['c']], skipRefused: true },
      waves: [['c']],
      canary: 'a',
      skipped: ['b'],
    },
    {
      name: 'resume: an interrupted canary resumes alone first',
      clusters: 'a:resume b:upgrade',
      o: { waves: [['a'], ['b']] },
      waves: [['a'], ['b']],
      canary: 'a',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = planFleet(surveys(c.clusters), { ...base, ...c.o });
      expect(p.waves.map((w) => w.contexts)).toEqual(c.waves);
      expect(p.canary).toBe(c.canary);
      expect(p.refusals.map((r) => r.context)).toEqual(c.refused ?? []);
      expect(p.skipped).toEqual(c.skipped ?? []);
      if (c.warning) expect(p.warnings.join('\n')).toMatch(c.warning);
      for (const w of p.waves) expect(w.canary).toBe(w.contexts.includes(c.canary ?? '-'));
    });
  }

  it('keeps the recorded wave numbers on resume and numbers fresh waves from 1', () => {
    expect(
      planFleet(surveys('a:done b:resume c:upgrade'), { ...base, waves: [['a'], ['b'], ['c']] }).waves.map(
        (w) => w.index,
      ),
    ).toEqual([2, 3]);
    expect(planFleet(surveys('a:upgrade b:upgrade'), base).waves.map((w) => w.index)).toEqual([1, 2]);
  });

  it('a refused canary names why, and that the fleet needs it', () => {
    const p = planFleet(surveys('a:refused b:upgrade'), { ...base, skipRefused: true, canary: 'a' });
    expect(p.refusals.map((r) => r.message)).toEqual([
      'a: not allowed',
      expect.stringMatching(/does not start without its canary/),
    ]);
  });
});
