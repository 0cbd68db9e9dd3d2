import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  expectConverged,
  expectSettingsKept,
  nonDefaultFlags,
  resumeArgs,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { runAndKillAfter } from '../support/kill-at.ts';
import { runTool } from '../support/cluster.ts';
import { leaveSavedMeshes, setUpSavedMesh } from '../support/saved-mesh.ts';
import { chartsDir } from '../support/mesh-scenario.ts';

let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});
// Starts from a saved mesh (test/support/saved-mesh.ts): the upgrade-paths tests build the same ones.
afterAll(leaveSavedMeshes);

const resume = (s: Scenario) => runTool(resumeArgs(s), { env: { NSM_CHARTS_DIR: chartsDir } });

describe('kill and resume', () => {
  it('a run SIGKILLed right after the removal step resumes from its journal and converges with nothing lost', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
      deployFlags: nonDefaultFlags,
    };
    current = await setUpSavedMesh(o);
    const killed = await runAndKillAfter(toolArgs(current, o), current.backupDir, 'hop1.remove');
    expect(killed.killed, killed.output).toBe(true);
    expect(fs.readFileSync(path.join(current.backupDir, 'journal.ndjson'), 'utf8')).not.toContain('"type":"finished"');
    // The mesh is gone now: resume must not need to detect it, and must take over the dead run's lease.
    const resumed = await resume(current);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(/done before \(journal\)/);
    await expectConverged(current, '1.7.0');
    await expectSettingsKept(current);
  });

  it('a second run against the same mesh is refused while the first holds the lease (exit 3)', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpSavedMesh(o);
    const first = runAndKillAfter(toolArgs(current, o), current.backupDir, 'hop1.backup');
    // Start the second once the first has its lease (its journal exists).
    for (let i = 0; i < 400 && !fs.existsSync(path.join(current.backupDir, 'journal.ndjson')); i++)
      await new Promise((r) => setTimeout(r, 25));
    const second = await runTool([
      ...toolArgs(current, o).filter((a) => a !== current!.backupDir && a !== '--backup-dir'),
      '--backup-dir',
      `${current.backupDir}-second`,
    ]);
    await first;
    expect(second.exitCode, second.stderr).toBe(3);
    expect(second.stderr).toMatch(/another run holds lease/);
    expect(fs.existsSync(`${current.backupDir}-second`)).toBe(false);
    // The killed first run is resumed and finishes.
    const resumed = await resume(current);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    await expectConverged(current, '1.7.0');
  });
});
