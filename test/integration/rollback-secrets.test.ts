/**
 * A rollback carries a registry password back into the old install without showing it: the Helm
 * reinstall reads it from a 0600 values file; it is in no output (with -v), journal or command line
 * seen by `ps`. A rollback journal edited to run another program, or to name one of the user's
 * programs as its helm everywhere (with its hash), is refused on --resume (exit 2), nothing run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesWith, impersonateInJournal, runWatchingPs, tamperJournal } from '../support/password-watch.ts';
import { clusterEnv } from '../support/cluster.ts';
import {
  expectConverged,
  runUpgrade,
  setUpMesh,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { expectStateBack, meshState, rollbackArgs, runRollback } from '../support/rollback-scenario.ts';

const password = `Pw-${Date.now().toString(36)}-rb-s3cret`;
let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('a registry password through a rollback', () => {
  it('helm reinstall: the password only in 0600 files, the old release holds it again; an edited rollback journal is refused', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'helm',
      from: '1.6.0',
      to: '1.7.0',
      helmSet: { 'registry.username': 'robot', 'registry.password': password },
    };
    current = await setUpMesh(o);
    const before = await meshState(current);
    // Manual: helm uninstall forgets the history, so the way back is a reinstall with the backed-up values.
    const up = await runUpgrade(current, o, ['--strategy', 'manual']);
    expect(up.exitCode, up.stderr).toBe(0);
    await expectConverged(current, '1.7.0');

    const r = await runWatchingPs(password, rollbackArgs(current, ['-v']));
    expect(r.exitCode, r.all.slice(-3000)).toBe(0);
    expect(r.all).toMatch(/helm-reinstall|uninstall, then install the NSM 1\.6\.0 chart/);
    expect(r.all).not.toContain(password);
    expect(r.psHits).toEqual([]);
    expect(filesWith(password, current.backupDir)).toEqual([
      { file: 'hop1/install.yaml', mode: '600' },
      { file: 'hop1/values-1.7.0.yaml', mode: '600' },
      { file: 'rollback/snapshot/install.yaml', mode: '600' },
      { file: 'rollback/values-1.6.0.yaml', mode: '600' },
    ]);
    await expectStateBack(current, before);

    // The rollback journal edited so that its deploy runs another program, and marked unfinished: --resume refuses, runs nothing.
    const journal = path.join(current.backupDir, 'rollback', 'journal.ndjson');
    const intact = fs.readFileSync(journal, 'utf8');
    const { marker } = tamperJournal(journal, 'rollback', ['hop1.snapshot', 'hop1.remove', 'hop1.delete-crds']);
    const resumed = await runRollback(current, ['--resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(2);
    expect(resumed.stderr).toMatch(/journaled rollback plan is not the plan its own inputs give \(step hop1\.deploy/);
    expect(fs.existsSync(marker)).toBe(false);

    // Edited consistently instead (helm named as a program of the user's everywhere, with its hash): refused naming both, never run.
    fs.writeFileSync(
      journal,
      intact
        .split('\n')
        .filter((l) => !/"type":"(finished|step)"/.test(l) || /"step":"hop1\.(snapshot|remove|delete-crds)"/.test(l))
        .join('\n'),
      { mode: 0o600 },
    );
    const helm = clusterEnv().HELM3!;
    const { marker: ran, impostor } = impersonateInJournal(journal, helm, 'v3.16.1+g5a5449d');
    const again = await runRollback(current, ['--resume']);
    expect(again.exitCode, again.stderr).toBe(2);
    expect(again.stderr).toContain(`helm: the rollback used ${impostor} (sha256`);
    expect(again.stderr).toContain(`found now ${helm} (sha256`);
    expect(fs.existsSync(ran), fs.existsSync(ran) ? fs.readFileSync(ran, 'utf8') : '').toBe(false);
  });
});
