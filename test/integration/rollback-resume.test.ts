/**
 * A rollback SIGKILLed in the middle (right after it removed the upgraded mesh, so nothing of a mesh
 * runs) continues with `rollback --resume` from its own journal and ends where an uninterrupted
 * rollback ends: the state before the upgrade.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expectConverged,
  runUpgrade,
  setUpMesh,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { expectStateBack, meshState, rollbackArgs, rollbackSteps, runRollback } from '../support/rollback-scenario.ts';
import { runAndKillAfter } from '../support/kill-at.ts';
import { detectInstall } from '../../src/mesh/detect.ts';

let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('rollback, SIGKILL, rollback --resume', () => {
  it('meshctl 1.6.0 -> 1.7.0 in place, rollback killed after its remove step, resumed: state before the upgrade', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      deployFlags: ['--mtls-mode', 'strict', '--nginx-error-log-level', 'debug'],
    };
    current = await setUpMesh(o);
    const before = await meshState(current);
    const up = await runUpgrade(current, o);
    expect(up.exitCode, up.stderr).toBe(0);
    await expectConverged(current, '1.7.0');

    const killed = await runAndKillAfter(
      rollbackArgs(current),
      path.join(current.backupDir, 'rollback'),
      'hop1.remove',
    );
    expect(killed.killed, killed.output).toBe(true);
    expect(fs.readFileSync(path.join(current.backupDir, 'rollback', 'journal.ndjson'), 'utf8')).not.toContain(
      '"type":"finished"',
    );
    await expect(
      detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace }),
    ).rejects.toThrow(/no NGINX Service Mesh found/);

    // A fresh rollback of the same run is refused: it must be resumed.
    const again = await runRollback(current);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/rollback --from .* --resume/);

    const resumed = await runRollback(current, ['--resume']);
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(/done before \(journal\)/);
    expect(rollbackSteps(current)).toEqual([
      'hop1.snapshot',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current, before);

    const done = await runRollback(current, ['--resume']);
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toMatch(/already finished; nothing to resume/);
  });
});
