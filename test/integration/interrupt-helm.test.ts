import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterEnv, repoRoot, runTool } from '../support/cluster.ts';
import { chartsDir } from '../support/mesh-scenario.ts';
import {
  expectConverged,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { installedNow } from '../../src/mesh/live-state.ts';
import { stepsDone } from '../support/kill-at.ts';

// Issue 14, "Ctrl-C that keeps its promise": a terminal's Ctrl-C goes to the whole foreground
// process group. The tool runs helm in a group of its own, so the SIGINT sent to the tool's group
// while `helm upgrade` runs must not cut helm off: the upgrade finishes (release deployed, step
// journaled), the tool stops before the next step with the resume command, and the resume converges.
let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('SIGINT to the whole process group during helm upgrade', () => {
  it('lets helm upgrade finish, stops before the next step, and the resume converges', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'helm', from: '1.6.0', to: '1.7.0' };
    current = await setUpMesh(o);
    // detached: the tool leads its own process group, as a shell job does; -pid signals all of it.
    const child = execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), toolArgs(current, o), {
      reject: false,
      all: true,
      detached: true,
      env: { ...clusterEnv(), NSM_CHARTS_DIR: chartsDir },
    });
    let exited = false;
    void child.finally(() => {
      exited = true;
    });
    let sentDuring: string | undefined;
    for (let t = 0; t < 6000 && !exited && !sentDuring; t++) {
      if (stepsDone(current.backupDir).includes('hop1.apply-crds')) {
        const ps = await execa('ps', ['-eo', 'pid,pgid,args'], { reject: false });
        const helm = String(ps.stdout)
          .split('\n')
          .find((l) => / upgrade nsm /.test(l) && /helm/.test(l));
        if (helm) {
          process.kill(-child.pid!, 'SIGINT');
          sentDuring = helm.trim();
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const res = await child;
    expect(sentDuring, `helm upgrade was never seen running; output:\n${String(res.all).slice(-2000)}`).toBeDefined();
    expect(res.exitCode, String(res.all).slice(-3000)).toBe(1);
    expect(String(res.all)).toContain(`--resume ${current.backupDir}`);
    // helm was not interrupted: its step finished and was journaled, and the release is deployed.
    expect(stepsDone(current.backupDir)).toEqual(['hop1.backup', 'hop1.apply-crds', 'hop1.upgrade']);
    const now = await installedNow({ kube: current.kube } as never, current.meshNamespace, 'nsm');
    expect({ status: now?.releaseStatus, chart: now?.chartVersion }).toEqual({ status: 'deployed', chart: '0.7.0' });
    const r = await runTool(['--resume', current.backupDir, '--yes', '--timeout', '3m', ...current.binaryArgs], {
      env: { NSM_CHARTS_DIR: chartsDir },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    await expectConverged(current, '1.7.0');
  }, 900_000);
});
