/**
 * The full upgrade through injected API faults (issue 7, "API faults"): every request of the tool,
 * and of the nginx-meshctl and helm it runs (they get the same --kubeconfig), goes through the proxy.
 * - 10% faults on the requests of the tool and the nginx-meshctl stand-in (both use src/kube, no
 *   User-Agent): the meshctl manual upgrade 1.6.0 -> 1.7.0 (remove, deploy, restore, restart)
 *   converges with nothing lost. The manual path, because it also restores every custom resource
 *   through the faults (and because the in-place helm upgrade of the test bed currently fails even
 *   without faults: webhook clientConfig patch; reported). Helm's
 *   own requests are spared: helm does not retry a 5xx on its GETs, fails the upgrade and its
 *   rollback (seen with faults on everything; reported), which no retry in the tool can undo.
 * - A permanent failure (every request answered 503 once the new control plane is deployed): exit 1,
 *   the failed step named and the resume command printed; when the API is back, --resume converges.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expectConverged,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { chartsDir } from '../support/mesh-scenario.ts';
import { clusterEnv, runTool } from '../support/cluster.ts';
import { failedByFault, isToolRequest } from '../support/fault-decide.ts';
import { expectRealTransport, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { testKube, uniqueName } from '../support/cluster.ts';
import { releaseMeshLock, takeMesh } from '../fixtures/meshctl/testbed.ts';

let current: Scenario | undefined;
let proxy: FaultProxy | undefined;
// One mesh per cluster (fixed cluster-scoped names): take the test bed's mesh lock around each test.
const holder = uniqueName('faults-upgrade');
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await current?.cleanup();
  current = undefined;
  await releaseMeshLock(await testKube(), holder);
});

async function freshMesh(): Promise<Scenario> {
  const kube = await testKube();
  const other = await takeMesh(kube, holder);
  if (other) throw new Error(`another mesh still occupies the cluster: ${other}`);
  // A mesh installed without the lock shows first in its ClusterRole: wait for it to go too.
  const role = '/apis/rbac.authorization.k8s.io/v1/clusterroles/nginx-mesh-api.internal.builtin.nsm.nginx';
  for (let i = 0; ; i++) {
    const left = await kube.request({ path: role }).then(
      () => true,
      () => false,
    );
    if (!left) break;
    if (i > 300)
      throw new Error('ClusterRole nginx-mesh-api.internal.builtin.nsm.nginx of another mesh stayed 5 minutes');
    await new Promise((r) => setTimeout(r, 1000));
  }
  // No catalogCrdsReady here: setUpMesh deletes every mesh CRD, and one deleted just after it is created can wait
  // minutes in the API server's CRD finalizer ("storage is (re)initializing", with backoff), as a CI run saw.
  return setUpMesh(o);
}

const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
const manual = ['--strategy', 'manual'];
const allSteps = ['hop1.backup', 'hop1.remove', 'hop1.deploy', 'hop1.restore', 'hop1.restart', 'hop1.verify'];
const env = () => ({ NSM_CHARTS_DIR: chartsDir, NSM_HELM: clusterEnv().HELM3 ?? 'helm' });

function journalSteps(dir: string): string[] {
  if (!fs.existsSync(`${dir}/journal.ndjson`)) return [];
  return fs
    .readFileSync(`${dir}/journal.ndjson`, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; step?: string })
    .filter((r) => r.type === 'step')
    .map((r) => r.step!);
}

describe('upgrade through injected API faults', () => {
  it('10% faults on the tool and nginx-meshctl requests (seed 42): meshctl manual 1.6.0 -> 1.7.0 converges, every custom resource and sidecar accounted for', async () => {
    current = await freshMesh();
    proxy = await startFaultProxy({ rate: 0.1, seed: 42, maxSeconds: 900, match: isToolRequest });
    const started = Date.now();
    const r = await runTool(toolArgs(current, o, [...manual, '--kubeconfig', proxy.kubeconfigPath, '-v']), {
      env: env(),
      timeoutMs: 600_000,
    });
    const retries = r.stderr.split('\n').filter((l) => /retrying (GET|POST|PUT|PATCH|DELETE) /.test(l)).length;
    console.log(
      `[faults] upgrade 10% seed 42: ${proxy.stats.requests} requests, injected ${JSON.stringify(proxy.stats.injected)}, tool retries logged ${retries}, ${((Date.now() - started) / 1000).toFixed(0)}s, exit ${r.exitCode}`,
    );
    expect(
      r.exitCode,
      r.stderr
        .split('\n')
        .filter((l) => !l.startsWith('debug:'))
        .join('\n'),
    ).toBe(0);
    expect(failedByFault(proxy.stats)).toBeGreaterThan(0);
    await expectRealTransport(proxy);
    expect(retries).toBeGreaterThan(0);
    expect(journalSteps(current.backupDir)).toEqual(allSteps);
    await expectConverged(current, '1.7.0');
  }, 1_200_000);

  it('the API down once the new control plane is deployed (100% 503): exit 1 naming the step and the resume command; --resume converges once it is back', async () => {
    current = await freshMesh();
    proxy = await startFaultProxy({ rate: 0, seed: 1, kinds: ['unavailable'], maxSeconds: 900 });
    // --timeout 90s instead of the scenarios' 3m: the tool waits that long (at most 3 minutes) for the API
    // (503 on every request) before it fails the step; a deploy here takes seconds, so 90 s leaves it room.
    const args = toolArgs(current, o, [...manual, '--kubeconfig', proxy.kubeconfigPath]);
    args[args.indexOf('--timeout') + 1] = '90s';
    const run = runTool(args, { env: env(), timeoutMs: 600_000 });
    let settled = false;
    void run.finally(() => {
      settled = true;
    });
    while (!settled && !journalSteps(current.backupDir).includes('hop1.deploy'))
      await new Promise((res) => setTimeout(res, 20));
    proxy.setRate(1);
    const started = Date.now();
    const r = await run;
    console.log(
      `[faults] API down after hop1.deploy: exit ${r.exitCode} after ${((Date.now() - started) / 1000).toFixed(0)}s, ${proxy.stats.injected.unavailable} 503s; stderr: ${r.stderr
        .split('\n')
        .filter((l) => /error|resume|step/i.test(l))
        .slice(0, 4)
        .join(' | ')}`,
    );
    expect(r.exitCode, r.stderr).toBe(1);
    await expectRealTransport(proxy);
    expect(r.stderr).toMatch(/step "hop1\.[a-z-]+" failed/);
    expect(r.stderr).toContain(`kubectl nsm-upgrade --resume ${current.backupDir}`);
    expect(r.stderr).toMatch(
      /Cluster state: The new control plane is deployed, but the custom resources are NOT restored yet/,
    );
    expect(journalSteps(current.backupDir)).toEqual(allSteps.slice(0, 3));

    // The API is back (the VPN reconnected): the same kubeconfig, no faults.
    proxy.setRate(0);
    const resumed = await runTool(
      ['--resume', current.backupDir, '--yes', '--kubeconfig', proxy.kubeconfigPath, ...current.binaryArgs],
      { env: env(), timeoutMs: 600_000 },
    );
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(journalSteps(current.backupDir)).toEqual(allSteps);
    await expectConverged(current, '1.7.0');
  }, 1_200_000);
});
