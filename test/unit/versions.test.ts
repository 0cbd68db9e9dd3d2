import { describe, expect, it } from 'vitest';
import { crosses, findRelease, hopsBetween, minorStops, nextHop, releases } from '../../src/mesh/versions.ts';
import { compareVersions, minorOf } from '../../src/version-compare.ts';
import { controlPlaneDeployment, notesForHop, versionNotes } from '../../src/mesh/version-notes.ts';

describe('release table', () => {
  it('is sorted, unique, and every row has a reason', () => {
    for (let i = 1; i < releases.length; i++)
      expect(compareVersions(releases[i]!.version, releases[i - 1]!.version)).toBeGreaterThan(0);
    for (const r of releases) expect(r.reason.length).toBeGreaterThan(5);
  });
  it('records the chart versions of FACTS.md', () => {
    expect(Object.fromEntries(releases.filter((r) => r.chartVersion).map((r) => [r.version, r.chartVersion]))).toEqual({
      '1.5.0': '0.5.0',
      '1.6.0': '0.6.0',
      '1.7.0': '0.7.0',
      '2.0.0': '2.0.0',
    });
  });
  it('findRelease accepts v-prefixed and short versions', () => {
    expect(findRelease('v1.7')?.chartVersion).toBe('0.7.0');
    expect(findRelease('1.6.5')).toBeUndefined();
  });
  it('minorStops keeps the newest patch of each minor', () => {
    expect(minorStops().map((r) => r.version)).toEqual([
      '1.0.0',
      '1.1.0',
      '1.2.1',
      '1.3.1',
      '1.4.1',
      '1.5.0',
      '1.6.0',
      '1.7.0',
      '2.0.0',
    ]);
  });
});

describe('next-hop rule: one minor version at a time', () => {
  it.each([
    ['1.5.0', '1.6.0', '1.6.0'],
    ['1.5.0', '2.0.0', '1.6.0'],
    ['1.6.0', '2.0.0', '1.7.0'],
    ['1.7.0', '2.0.0', '2.0.0'],
    ['1.4.0', '1.4.1', '1.4.1'],
    ['1.4.0', '1.7.0', '1.5.0'],
    ['1.3.0', '1.5.0', '1.4.1'],
  ])('from %s toward %s the next hop is %s', (from, to, want) => expect(nextHop(from, to)).toBe(want));
  it('has no hop when already there or above', () => {
    expect(nextHop('1.7.0', '1.7.0')).toBeUndefined();
    expect(nextHop('2.0.0', '1.7.0')).toBeUndefined();
  });
  it('chains hops without skipping a minor', () => {
    expect(hopsBetween('1.5.0', '2.0.0')).toEqual([
      { from: '1.5.0', to: '1.6.0' },
      { from: '1.6.0', to: '1.7.0' },
      { from: '1.7.0', to: '2.0.0' },
    ]);
    expect(hopsBetween('1.4.0', '1.5.0')).toEqual([{ from: '1.4.0', to: '1.5.0' }]);
    expect(hopsBetween('1.6.0', '1.6.0')).toEqual([]);
  });
  it('every pair of releases chains through each minor in between exactly once', () => {
    const versions = releases.map((r) => r.version);
    for (const from of versions)
      for (const to of versions) {
        const hops = hopsBetween(from, to);
        if (compareVersions(from, to) >= 0) {
          expect(hops).toEqual([]);
          continue;
        }
        expect(hops[0]!.from).toBe(from);
        expect(hops.at(-1)!.to).toBe(to);
        for (let i = 1; i < hops.length; i++) {
          expect(hops[i]!.from).toBe(hops[i - 1]!.to);
          expect(minorOf(hops[i]!.to)).not.toBe(minorOf(hops[i]!.from));
        }
      }
  });
});

describe('version notes', () => {
  it('every row has an id, a release in the table and a reason', () => {
    expect(new Set(versionNotes.map((n) => n.id)).size).toBe(versionNotes.length);
    for (const n of versionNotes) {
      expect(findRelease(n.at)).toBeDefined();
      expect(n.reason.length).toBeGreaterThan(10);
    }
  });
  it('crosses is from < boundary <= to', () => {
    expect(crosses({ from: '1.6.0', to: '1.7.0' }, '1.7.0')).toBe(true);
    expect(crosses({ from: '1.7.0', to: '2.0.0' }, '1.7.0')).toBe(false);
  });
  it.each([
    ['1.4.1', '1.5.0', 'kubernetes', ['bundled-observability-removed', 'httproutegroup-headers-object']],
    ['1.5.0', '1.6.0', 'kubernetes', []],
    ['1.6.0', '1.7.0', 'kubernetes', ['tracing-dropped']],
    ['1.6.0', '1.7.0', 'openshift', ['tracing-dropped', 'openshift-csi-renamed']],
    [
      '1.7.0',
      '2.0.0',
      'openshift',
      ['auto-injection-opt-in', 'meshconfig-crd', 'mesh-api-renamed', 'deploy-flags-removed'],
    ],
  ] as const)('hop %s -> %s on %s has notes %j', (from, to, env, ids) => {
    expect(notesForHop({ from, to }, env).map((n) => n.id)).toEqual(ids);
  });
  it('names the control-plane Deployment by version', () => {
    expect(controlPlaneDeployment('1.7.0')).toBe('nginx-mesh-api');
    expect(controlPlaneDeployment('2.0.0')).toBe('nginx-mesh-controller');
  });
});
