import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFleetState, checkRecordedPaths, newFleetState, readFleetState, writeFleetState, type FleetState } from '../../../src/fleet/state.ts';
import { fleetSpec } from '../../../src/fleet/fleet-file.ts';

const spec = fleetSpec({ contexts: ['staging', 'prod/eu'] }, { meshNamespace: 'nginx-mesh', method: 'auto', strategy: 'auto', meshctl: ['/opt/m'] }, { to: '2.0.0' });
const settings = { timeout: '10m', labelNamespaces: false, onFailure: 'stop' as const, skipRefused: false, soakMs: 0 };
const fresh = () => newFleetState(spec, settings, [['staging'], ['prod/eu']], '2026-11-26T00:00:00.000Z');
const tampered = (f: (s: Record<string, any>) => void) => { const s = JSON.parse(JSON.stringify(fresh())) as Record<string, any>; f(s); return s; };

describe('the fleet record', () => {
  it('is written 0600 in a 0700 directory and read back the same', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-state-'));
    await writeFleetState(fs, dir, fresh());
    expect((await fs.stat(path.join(dir, 'fleet.json'))).mode & 0o777).toBe(0o600);
    const back = await readFleetState(fs, dir);
    expect(back).toEqual(fresh());
    expect(back.clusters['prod/eu']).toEqual({ status: 'pending', at: '2026-11-26T00:00:00.000Z' });
    expect(back.spec.clusters[1]!.dir).toBe('prod_eu');
  });

  const bad: [string, (s: Record<string, any>) => void, RegExp][] = [
    ['a directory name that leaves the fleet directory', (s) => { s.spec.clusters[0].dir = '../../etc'; }, /dir is "\.\.\/\.\.\/etc", not "staging"/],
    ['an unknown cluster setting', (s) => { s.spec.clusters[0].exec = 'rm -rf /'; }, /unknown key exec/],
    ['a binary that is not a string', (s) => { s.spec.clusters[0].meshctl = [42]; }, /meshctl\[0\] must be a non-empty string/],
    ['an unknown status', (s) => { s.clusters.staging.status = 'half'; }, /no valid status/],
    ['a wave naming another cluster', (s) => { s.waves = [['staging'], ['evil']]; }, /waves must list contexts of the fleet/],
    ['a cluster in two waves', (s) => { s.waves = [['staging'], ['staging', 'prod/eu']]; }, /each once/],
    ['another format', (s) => { s.format = 2; }, /format 2/],
    ['a pid that is not one', (s) => { s.clusters.staging.pid = -1; }, /pid/],
    ['a record of a context the fleet does not have', (s) => { s.clusters.other = { status: 'done', at: 'x' }; }, /does not have/],
  ];
  for (const [what, change, msg] of bad) {
    it(`refuses ${what}`, () => expect(() => checkFleetState(tampered(change), 'fleet.json')).toThrow(msg));
  }

  it('refuses a record others can write (exit 2): a resume would run what it names', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-state-'));
    await writeFleetState(fs, dir, fresh());
    await fs.chmod(path.join(dir, 'fleet.json'), 0o666);
    await expect(readFleetState(fs, dir)).rejects.toThrow(/writable by anyone/);
  });

  it('refuses recorded binaries and kubeconfigs others can write, unless given again', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-bin-'));
    const bin = path.join(dir, 'nginx-meshctl');
    await fs.writeFile(bin, '#!/bin/sh\n', { mode: 0o755 });
    const s: FleetState = fresh();
    s.spec.clusters[0]!.meshctl = [bin];
    await expect(checkRecordedPaths(fs, s.spec.clusters)).rejects.toThrow(/--meshctl of prod\/eu \/opt\/m: ENOENT/);
    s.spec.clusters[1]!.meshctl = [bin];
    await expect(checkRecordedPaths(fs, s.spec.clusters)).resolves.toBeUndefined();
    await fs.chmod(bin, 0o777);
    await expect(checkRecordedPaths(fs, s.spec.clusters)).rejects.toThrow(/the fleet record names --meshctl of staging .* writable by anyone/);
    for (const c of s.spec.clusters) c.meshctl = ['nginx-meshctl']; // a bare name is looked up on PATH, as on the first run
    await expect(checkRecordedPaths(fs, s.spec.clusters)).resolves.toBeUndefined();
  });
});
