/**
 * `--on-failure rollback`: a manual 1.6.0 -> 1.7.0 upgrade whose deploy fails after it installed
 * part of the mesh (a wrapper around nginx-meshctl 1.7.0 deploys, makes the control plane
 * unschedulable and exits 1, as the real binary does when the mesh never gets healthy). The tool
 * rolls the hop back by itself and exits 1 naming the failed step: 1.6.0 runs again with its
 * settings, CRDs, resources and sidecars. Killed during that rollback, `--resume DIR` continues it
 * as a rollback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  binaryFlagsOf,
  nonDefaultFlags,
  scenarioMeshctl,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { clusterEnv, runTool } from '../support/cluster.ts';
import { chartsDir } from '../support/mesh-scenario.ts';
import { runAndKillAfter } from '../support/kill-at.ts';
import { failingMeshctlDeploy } from '../support/failing-deploy.ts';
import { expectStateBack, meshState, rollbackSteps } from '../support/rollback-scenario.ts';

let current: Scenario | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const o: ScenarioOptions & { to: string } = {
  method: 'meshctl',
  from: '1.6.0',
  to: '1.7.0',
  deployFlags: nonDefaultFlags,
};

async function setUp(): Promise<{ args: string[]; env: Record<string, string> }> {
  current = await setUpMesh(o);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-on-failure-'));
  const args = toolArgs(current, o, ['--strategy', 'manual', '--on-failure', 'rollback']).filter(
    (a) => a !== scenarioMeshctl('1.7.0'),
  );
  args.push('--meshctl', failingMeshctlDeploy(tmp, current.meshNamespace, { firstOnly: false }));
  return { args, env: { NSM_CHARTS_DIR: chartsDir } };
}

describe('--on-failure rollback', () => {
  it('a deploy that fails after installing part of the mesh: the hop is rolled back, exit 1 naming the step, nothing lost', async () => {
    const { args, env } = await setUp();
    const before = await meshState(current!);
    const r = await runTool(args, { env });
    expect(r.exitCode, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/step "hop1\.deploy" failed/);
    expect(r.stderr).toMatch(/Rolled back \(--on-failure rollback\): NSM 1\.6\.0 runs again/);
    expect(rollbackSteps(current!)).toEqual([
      'hop1.snapshot',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current!, before);
    // The run cannot be resumed as an upgrade any more.
    const resumed = await runTool(['--resume', current!.backupDir, '--yes'], { env });
    expect(resumed.exitCode).toBe(2);
    expect(resumed.stderr).toMatch(/was rolled back after step hop1\.deploy failed/);
  });

  it('killed during the automatic rollback, --resume DIR continues it as a rollback', async () => {
    const { args, env } = await setUp();
    const before = await meshState(current!);
    const killed = await runAndKillAfter(args, path.join(current!.backupDir, 'rollback'), 'hop1.remove');
    expect(killed.killed, killed.output).toBe(true);
    const resumed = await runTool(
      ['--resume', current!.backupDir, '--yes', '--timeout', '3m', ...binaryFlagsOf(args)],
      { env },
    );
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stderr + resumed.stdout).toMatch(
      /being rolled back after step hop1\.deploy failed: resuming the rollback/,
    );
    expect(rollbackSteps(current!)).toEqual([
      'hop1.snapshot',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current!, before);
  });

  it('a failed in-place helm upgrade (it upgraded, then exited 1): rolled back with helm rollback, exit 1 naming the step', async () => {
    const h: ScenarioOptions & { to: string } = {
      method: 'helm',
      from: '1.6.0',
      to: '1.7.0',
      helm: 'HELM3',
      helmSet: { accessControlMode: 'deny' },
    };
    current = await setUpMesh(h);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-on-failure-'));
    const helm = path.join(tmp, 'helm');
    fs.writeFileSync(
      helm,
      [
        '#!/bin/sh',
        `real='${clusterEnv().HELM3}'`,
        'case "$1" in upgrade) "$real" "$@" >/dev/null || exit $?; echo "Error: UPGRADE FAILED: timed out waiting for the condition" >&2; exit 1;; esac',
        'exec "$real" "$@"',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const before = await meshState(current);
    const args = toolArgs(current, h, ['--on-failure', 'rollback']).map((a) => (a === clusterEnv().HELM3 ? helm : a));
    const r = await runTool(args, { env: { NSM_CHARTS_DIR: chartsDir } });
    expect(r.exitCode, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/step "hop1\.upgrade" failed/);
    expect(r.stderr).toMatch(/Rolled back \(--on-failure rollback\): NSM 1\.6\.0 runs again/);
    expect(rollbackSteps(current)).toEqual([
      'hop1.snapshot',
      'hop1.helm-rollback',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current, before);
  });
});
