import { describe, expect, it } from 'vitest';
import { formatFleetPlan, formatFleetSummary, groupTitle } from '../../../src/fleet/format.ts';
import { fleetSpec } from '../../../src/fleet/fleet-file.ts';
import { planFleet } from '../../../src/fleet/plan.ts';
import { newFleetState, recordSurveys } from '../../../src/fleet/state.ts';
import type { ClusterAction, ClusterSurvey } from '../../../src/fleet/types.ts';

const survey = (context: string, action: ClusterAction, more: Partial<ClusterSurvey> = {}): ClusterSurvey => ({
  context,
  action,
  from: '1.7.0',
  method: 'meshctl',
  hops: action === 'upgrade' ? [{ from: '1.7.0', to: '2.0.0', strategy: 'in-place' }] : [],
  steps: [],
  warnings: [],
  refusals: [],
  ...more,
});
const surveys = [
  survey('staging', 'upgrade', { warnings: ['OpenTracing is removed in 2.0'] }),
  survey('prod-eu', 'upgrade', { method: 'helm' }),
  survey('prod-us', 'refused', {
    from: undefined,
    method: undefined,
    refusals: [
      { check: 'permissions', message: 'not allowed to delete customresourcedefinitions', fix: 'use an admin context' },
    ],
  }),
  survey('lab', 'up-to-date', { from: '2.0.0' }),
];

describe('the fleet plan, as text', () => {
  it('a row per cluster, the waves, warnings counted, refusals with their fix', () => {
    const plan = planFleet(surveys, { to: '2.0.0', maxParallel: 2, skipRefused: false });
    expect(formatFleetPlan(plan, '/f')).toBe(`Fleet plan: NGINX Service Mesh to 2.0.0 on 4 clusters, directory /f

  CONTEXT  WAVE        INSTALLED  METHOD         HOPS                     STATUS
  staging  1 (canary)  1.7.0      nginx-meshctl  1.7.0 -> 2.0.0 in-place  upgrade
  prod-eu  2           1.7.0      helm           1.7.0 -> 2.0.0 in-place  upgrade
  prod-us  -           ?          ?              -                        REFUSED
  lab      -           2.0.0      nginx-meshctl  nothing to do            up-to-date

Waves (each cluster's own run must finish converged before the next wave starts):
  1. staging (canary)
  2. prod-eu

Warnings:
  - staging: 1 warning (kubectl nsm-upgrade plan --context staging --to 2.0.0 lists them)

Refused (nothing will run until these are fixed, or --skip-refused leaves those clusters out):
  - prod-us: [permissions] not allowed to delete customresourcedefinitions
    fix: use an admin context

`);
    expect(groupTitle(plan, surveys[1]!)).toBe('[prod-eu] wave 2: 1.7.0 -> 2.0.0, helm, 1 hop');
  });
});

describe('the summary: where each cluster is', () => {
  it('after a failure: upgraded, failed at its step, left out, already there, not started; and how to go on', () => {
    const spec = fleetSpec(
      { contexts: ['staging', 'prod-eu', 'prod-us', 'lab', 'dr'] },
      { meshNamespace: 'nginx-mesh', method: 'auto', strategy: 'auto', meshctl: [] },
      { to: '2.0.0' },
    );
    const plan = planFleet([...surveys, survey('dr', 'upgrade')], { to: '2.0.0', maxParallel: 1, skipRefused: true });
    const state = newFleetState(
      spec,
      { timeout: '10m', labelNamespaces: false, onFailure: 'stop', skipRefused: true, soakMs: 0 },
      plan.waves.map((w) => w.contexts),
      't0',
    );
    recordSurveys(state, plan, 't1');
    expect(state.clusters['prod-us']).toMatchObject({
      status: 'skipped',
      message: 'not allowed to delete customresourcedefinitions',
    });
    expect(state.clusters.lab!.status).toBe('up-to-date');
    state.clusters.staging = { status: 'done', at: 't2', from: '1.7.0' };
    state.clusters['prod-eu'] = {
      status: 'failed',
      at: 't3',
      from: '1.7.0',
      now: '1.7.0',
      exitCode: 1,
      step: 'hop1.upgrade',
      message: 'step "hop1.upgrade" failed: helm exited 1',
    };
    const rolledBack = formatFleetSummary(
      { ...state, clusters: { ...state.clusters, 'prod-eu': { ...state.clusters['prod-eu'], rolledBack: true } } },
      '/f',
      plan,
    );
    expect(rolledBack).toContain(
      'helm exited 1; rolled back (--on-failure rollback), its control plane runs 1.7.0; its backup',
    );
    expect(formatFleetSummary(state, '/f', plan)).toBe(`
Fleet to 2.0.0: 2 of 5 clusters on 2.0.0.
  CONTEXT  WAVE        WHERE
  staging  1 (canary)  upgraded: on 2.0.0, converged
  prod-eu  2           FAILED at hop1.upgrade (exit 1): step "hop1.upgrade" failed: helm exited 1; its control plane runs 1.7.0; its backup and journal: /f/prod-eu
  prod-us  -           left out: refused (not allowed to delete customresourcedefinitions), on ?
  lab      -           already on 2.0.0, converged
  dr       3           not started: still on 1.7.0, untouched
Fleet directory: /f
Clusters not started were not touched. Fix the cause, then continue with:
  kubectl nsm-upgrade fleet --resume /f
`);
  });
});
