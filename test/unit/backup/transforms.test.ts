import { describe, expect, it } from 'vitest';
import { headersListToObject, transformForRestore, transforms } from '../../../src/backup/transforms.ts';

const oldGroup = {
  apiVersion: 'specs.smi-spec.io/v1alpha3',
  kind: 'HTTPRouteGroup',
  metadata: { name: 'r', namespace: 'a' },
  spec: {
    matches: [
      { name: 'm', pathRegex: '/x', headers: [{ 'x-user': 'beta' }, { 'user-agent': '.*Firefox.*' }] },
      { name: 'n', methods: ['GET'] },
    ],
  },
};

describe('version transforms', () => {
  it('every row says why it exists', () => {
    for (const t of transforms) expect(t.reason.length).toBeGreaterThan(20);
  });

  it('turns HTTPRouteGroup headers lists into objects for a pre-1.5 backup restored into 1.5+', () => {
    const { obj, applied } = transformForRestore(oldGroup, { from: '1.4.1', to: '1.5.0' });
    expect(applied).toEqual(['httproutegroup-headers-list-to-object']);
    expect((obj.spec as { matches: unknown[] }).matches).toEqual([
      { name: 'm', pathRegex: '/x', headers: { 'x-user': 'beta', 'user-agent': '.*Firefox.*' } },
      { name: 'n', methods: ['GET'] },
    ]);
    expect(Array.isArray(oldGroup.spec.matches[0]!.headers)).toBe(true); // input untouched
  });

  it('leaves backups from 1.5+ and restores into 1.4 alone', () => {
    expect(transformForRestore(oldGroup, { from: '1.5.0', to: '1.6.0' }).applied).toEqual([]);
    expect(transformForRestore(oldGroup, { from: '1.3.0', to: '1.4.1' }).applied).toEqual([]);
  });

  it('decides by shape when versions are unknown, and never touches the new shape', () => {
    expect(transformForRestore(oldGroup, { from: null, to: null }).applied).toHaveLength(1);
    const newer = transformForRestore(oldGroup, { from: null, to: null }).obj;
    expect(transformForRestore(newer, { from: null, to: null }).applied).toEqual([]);
    expect(transformForRestore(oldGroup, { from: 'unknown', to: '1.5.0-rc1' }).applied).toHaveLength(1); // not version numbers: unknown
    expect(transformForRestore(oldGroup, { from: 'v1.4', to: 'v1.5' }).applied).toHaveLength(1);
    const split = { ...oldGroup, kind: 'TrafficSplit' };
    expect(transformForRestore(split, { from: '1.4.0', to: '1.5.0' }).applied).toEqual([]);
  });

  it('accepts name/value pairs too', () => {
    expect(headersListToObject([{ name: 'x-a', value: '1' }, { 'x-b': 2 }])).toEqual({ 'x-a': '1', 'x-b': '2' });
  });
});
