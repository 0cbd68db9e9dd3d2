import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  expectConverged,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { bindServiceAccount, type BoundServiceAccount } from '../support/rbac.ts';
import { runTool } from '../support/cluster.ts';
import { chartsDir } from '../support/mesh-scenario.ts';

// The whole upgrade run as a ServiceAccount bound to exactly manifests/rbac (issue 7): the tool,
// and the nginx-meshctl/helm it drives with --kubeconfig, need no permission beyond that role.
let sa: BoundServiceAccount;
let current: Scenario | undefined;
beforeAll(async () => {
  sa = await bindServiceAccount('rbac-up');
});
afterAll(async () => {
  await sa.remove();
});
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('upgrade as the ServiceAccount of manifests/rbac', () => {
  it.each([
    {
      label: 'nginx-meshctl, OpenShift manual path',
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
    },
    { label: 'Helm 4, manual path', method: 'helm', from: '1.6.0', to: '1.7.0', helm: 'HELM4' },
  ] as (ScenarioOptions & { to: string; label: string })[])(
    '$label $from -> $to: converges with the role only',
    async (o) => {
      current = await setUpMesh(o);
      const r = await runTool(
        [...toolArgs(current, o, o.method === 'helm' ? ['--strategy', 'manual'] : []), '--kubeconfig', sa.kubeconfig],
        { env: { NSM_CHARTS_DIR: chartsDir, KUBECONFIG: sa.kubeconfig } },
      );
      expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(sa.token);
      await expectConverged(current, o.to);
    },
  );
});
