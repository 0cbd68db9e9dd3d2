import { describe, expect, it } from 'vitest';
import { retargetKubeconfig } from '../../../src/upgrade/retarget.ts';
import type { Plan } from '../../../src/upgrade/types.ts';

const plan = {
  from: '1.6.0', to: '1.7.0', namespace: 'nginx-mesh', method: 'meshctl', environment: 'kubernetes', release: 'nginx-service-mesh', warnings: [], refusals: [],
  hops: [{ index: 1, from: '1.6.0', to: '1.7.0', strategy: 'manual', reason: '', method: 'meshctl', steps: [
    { id: 'hop1.remove', kind: 'remove', title: '', destructive: true, writes: true, params: {}, commands: [{ bin: 'nginx-meshctl', args: ['-k', '/old/config', '-n', 'nginx-mesh', 'remove', '--yes'], writes: true }] },
    { id: 'hop1.deploy', kind: 'deploy', title: '', destructive: false, writes: true, params: {}, commands: [{ bin: 'helm', args: ['install', 'nsm', 'chart', '--kubeconfig', '/old/config'], writes: true }] },
  ] }],
} as unknown as Plan;

describe('retargetKubeconfig', () => {
  it('points every nginx-meshctl and helm command at the kubeconfig given to --resume', () => {
    const out = retargetKubeconfig(plan, '/new/config');
    expect(out.hops[0]!.steps[0]!.commands[0]!.args).toEqual(['-k', '/new/config', '-n', 'nginx-mesh', 'remove', '--yes']);
    expect(out.hops[0]!.steps[1]!.commands[0]!.args).toEqual(['install', 'nsm', 'chart', '--kubeconfig', '/new/config']);
    expect(plan.hops[0]!.steps[0]!.commands[0]!.args[1]).toBe('/old/config'); // the journaled plan is not changed
  });
  it('keeps the plan as journaled when --resume has no --kubeconfig', () => {
    expect(retargetKubeconfig(plan, undefined)).toBe(plan);
  });
});
