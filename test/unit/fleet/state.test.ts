import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkFleetState,
  checkRecordedPaths,
  newFleetState,
  readFleetState,
  rebuildWaves,
  writeFleetState,
  type FleetState,
} from '../../../src/fleet/state.ts';
import { fleetSpec } from '../../../src/fleet/fleet-file.ts';

const spec = fleetSpec(
  { contexts: ['staging', 'prod/eu'] },
  { meshNamespace: 'nginx-mesh', method: 'auto', strategy: 'auto', meshctl: ['/opt/m'] },
  { to: '2.0.0' },
);
const settings = { timeout: '10m', labelNamespaces: false, onFailure: 'stop' as const, skipRefused: false, soakMs: 0 };
const fresh = () => newFleetState(spec, settings, [['staging'], ['prod/eu']], '2026-11-26T00:00:00.000Z');
const tampered = (f: (s: Record<string, any>) => void) => {
  const s = JSON.parse(JSON.stringify(fresh())) as Record<string, any>;
  f(s);
  return s;
};

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
    [
      'a directory name that leaves the fleet directory',
      (s) => {
        s.spec.clusters[0].dir = '../../etc';
      },
      /dir is "\.\.\/\.\.\/etc", not "staging"/,
    ],
    [
      'an unknown cluster setting',
      (s) => {
        s.spec.clusters[0].exec = 'rm -rf /';
      },
      /unknown key exec/,
    ],
    [
      'a binary that is not a string',
      (s) => {
        s.spec.clusters[0].meshctl = [42];
      },
      /\/spec\/clusters\/0\/meshctl\/0 is 42, not a non-empty string/,
    ],
    [
      'an unknown status',
      (s) => {
        s.clusters.staging.status = 'half';
      },
      /\/clusters\/staging\/status is "half", not one of pending, running/,
    ],
    [
      'a wave naming another cluster',
      (s) => {
        s.waves = [['staging'], ['evil']];
      },
      /waves must list contexts of the fleet/,
    ],
    [
      'a cluster in two waves',
      (s) => {
        s.waves = [['staging'], ['staging', 'prod/eu']];
      },
      /each once/,
    ],
    [
      'another format',
      (s) => {
        s.format = 2;
      },
      /format 2/,
    ],
    [
      'a pid that is not one',
      (s) => {
        s.clusters.staging.pid = -1;
      },
      /pid/,
    ],
    [
      'a record of a context the fleet does not have',
      (s) => {
        s.clusters.other = { status: 'done', at: 'x' };
      },
      /does not have/,
    ],
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
    await expect(checkRecordedPaths(fs, s.spec.clusters)).rejects.toThrow(
      /the fleet record names --meshctl of staging .* writable by anyone/,
    );
    for (const c of s.spec.clusters) c.meshctl = ['nginx-meshctl']; // a bare name is looked up on PATH, as on the first run
    await expect(checkRecordedPaths(fs, s.spec.clusters)).resolves.toBeUndefined();
  });

  it('refuses recorded paths whose meaning depends on where the resume starts, or that play with ".."', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-paths-'));
    const bin = path.join(dir, 'nginx-meshctl');
    await fs.writeFile(bin, '#!/bin/sh\n', { mode: 0o700 });
    const at = (over: Partial<FleetState['spec']['clusters'][number]>) => {
      const s: FleetState = structuredClone(fresh());
      s.spec.clusters = [{ ...s.spec.clusters[0]!, meshctl: [bin], ...over }];
      return s.spec.clusters;
    };
    await expect(checkRecordedPaths(fs, at({}))).resolves.toBeUndefined();
    const bad: [Partial<FleetState['spec']['clusters'][number]>, RegExp][] = [
      [{ meshctl: ['bin/nginx-meshctl'] }, /--meshctl of staging "bin\/nginx-meshctl" is not an absolute path/],
      [
        { meshctl: [`${dir}/../${path.basename(dir)}/nginx-meshctl`] },
        /is not a plain absolute path \(no "\.\.", "\." or "\/\/"\)/,
      ],
      [{ helm: `${dir}//helm` }, /--helm of staging .* is not a plain absolute path/],
      [{ kubeconfig: 'staging.kubeconfig' }, /--kubeconfig of staging "staging.kubeconfig" is not an absolute path/],
      [{ kubeconfig: dir }, /--kubeconfig of staging .* is not a file/],
      [
        { chart: './charts' },
        /--chart of staging "\.\/charts" is neither an absolute path nor a chart repository reference/,
      ],
      [{ chart: '../x/y' }, /is neither an absolute path nor a chart repository reference/],
    ];
    for (const [over, msg] of bad)
      await expect(checkRecordedPaths(fs, at(over)), JSON.stringify(over)).rejects.toThrow(msg);
    // A repository reference, an OCI one, a bare command name: passed on as the first run had them.
    await expect(
      checkRecordedPaths(fs, at({ chart: 'nginx-stable/nginx-service-mesh', helm: 'helm' })),
    ).resolves.toBeUndefined();
    await expect(checkRecordedPaths(fs, at({ chart: 'oci://registry.example/charts/nsm' }))).resolves.toBeUndefined();
    // A local chart is used: it must be private too.
    const chart = path.join(dir, 'charts');
    await fs.mkdir(chart, { mode: 0o700 });
    await expect(checkRecordedPaths(fs, at({ chart }))).resolves.toBeUndefined();
    await fs.chmod(chart, 0o777);
    await expect(checkRecordedPaths(fs, at({ chart }))).rejects.toThrow(
      /the fleet record names --chart of staging .* writable by anyone/,
    );
    // A directory of binaries: every file in it.
    const binDir = path.join(dir, 'bins');
    await fs.mkdir(path.join(binDir, '2.0.0'), { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(binDir, '2.0.0', 'nginx-meshctl'), '#!/bin/sh\n', { mode: 0o777 });
    await fs.chmod(path.join(binDir, '2.0.0', 'nginx-meshctl'), 0o777);
    await expect(checkRecordedPaths(fs, at({ meshctl: [binDir] }))).rejects.toThrow(
      /--meshctl of staging .*2\.0\.0\/nginx-meshctl is writable by anyone/,
    );
  });
});

describe("a resumed fleet's waves: built again from its clusters and --max-parallel, never read from the record", () => {
  const spec4 = fleetSpec(
    { contexts: ['a', 'b', 'c', 'd'] },
    { meshNamespace: 'nginx-mesh', method: 'auto', strategy: 'auto', meshctl: [] },
    { to: '2.0.0', maxParallel: 2 },
  );
  const state4 = (statuses: Record<string, string>, waves: string[][], canary?: string) => {
    const s = newFleetState({ ...spec4, canary }, settings, waves, 't');
    for (const [c, st] of Object.entries(statuses)) s.clusters[c] = { status: st as never, at: 't' };
    return s;
  };
  it("the canary alone, then the others in the fleet's order, --max-parallel at a time, whatever the record says", () => {
    expect(rebuildWaves(state4({}, [['d', 'c', 'b', 'a']]))).toEqual({
      canary: 'a',
      waves: [['a'], ['b', 'c'], ['d']],
    });
    expect(rebuildWaves(state4({ a: 'done', b: 'interrupted' }, [['c'], ['a', 'b', 'd']]))).toEqual({
      canary: 'a',
      waves: [['a'], ['b', 'c'], ['d']],
    });
  });
  it('those left out or already on the target when the fleet started stay out; the canary is the first of the others', () => {
    expect(rebuildWaves(state4({ a: 'up-to-date', c: 'skipped' }, []))).toEqual({ canary: 'b', waves: [['b'], ['d']] });
  });
  it('a --canary the fleet was given is the canary, first', () => {
    expect(rebuildWaves(state4({}, [], 'c'))).toEqual({ canary: 'c', waves: [['c'], ['a', 'b'], ['d']] });
  });
});
