/**
 * A deploy that failed is not "done" on --resume. The real nginx-meshctl installs the release
 * without waiting, then gives up (exit 1) when the control plane never gets healthy, leaving the
 * release installed. Here a wrapper around nginx-meshctl 1.7.0 (the stand-in, or in conformance the
 * real binary) does the same on its first deploy:
 * it deploys, makes the control plane unschedulable (Recreate, a node selector no node has, a 1 s
 * progress deadline) and exits 1. The resumed run must see the half-installed release from the
 * Deployment's readiness, remove it, deploy again, and converge with nothing lost.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  binaryFlagsOf,
  expectConverged,
  expectSettingsKept,
  nonDefaultFlags,
  scenarioMeshctl,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { runTool } from '../support/cluster.ts';
import { leaveSavedMeshes, setUpSavedMesh } from '../support/saved-mesh.ts';
import { failingMeshctlDeploy } from '../support/failing-deploy.ts';
import { chartsDir } from '../support/mesh-scenario.ts';

let current: Scenario | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});
// Starts from a saved mesh (test/support/saved-mesh.ts): the upgrade-paths tests build the same one.
afterAll(leaveSavedMeshes);

describe('a failed deploy, then --resume', () => {
  it('removes the half-installed release, deploys again and converges', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      deployFlags: nonDefaultFlags,
    };
    current = await setUpSavedMesh(o);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-deploy-resume-'));
    const target = failingMeshctlDeploy(tmp, current.meshNamespace, { firstOnly: true });
    const args = toolArgs(current, o, ['--strategy', 'manual']).filter((a) => a !== scenarioMeshctl('1.7.0'));
    args.push('--meshctl', target);
    const env = { NSM_CHARTS_DIR: chartsDir };
    const first = await runTool(args, { env });
    expect(first.exitCode, first.stderr).toBe(1);
    expect(first.stdout + first.stderr).toMatch(/hop1\.deploy/);
    expect(fs.existsSync(path.join(tmp, 'failed-once'))).toBe(true);

    const resumed = await runTool(['--resume', current.backupDir, '--yes', '--timeout', '3m', ...binaryFlagsOf(args)], {
      env,
    });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(
      /an earlier deploy of NSM 1\.7\.0 failed \(Deployment nginx-mesh-api (stopped progressing|has no ready replica)/,
    );
    await expectConverged(current, '1.7.0');
    await expectSettingsKept(current);
    // The broken control plane is gone: the redeployed one is ready (without the fix, resume skipped the deploy as "done").
    const api = await current.kube.request<{
      spec?: { template?: { spec?: { nodeSelector?: object } } };
      status?: { readyReplicas?: number };
    }>({ path: `/apis/apps/v1/namespaces/${current.meshNamespace}/deployments/nginx-mesh-api` });
    expect(api.spec?.template?.spec?.nodeSelector).toBeUndefined();
    expect(api.status?.readyReplicas ?? 0).toBeGreaterThanOrEqual(1);
    // The resumed run may see the broken deploy only once its readiness grace ends (up to 3 minutes: the
    // "has no ready replica" branch above), so the default 180 s would time out a run that passes.
  }, 420_000);
});
