import { describe, expect, it } from 'vitest';
import { kindForPath, parseManifest, resourceFilePath, sha256 } from '../../../src/backup/manifest.ts';
import { catalog } from '../../../src/mesh/catalog.ts';

const base = {
  formatVersion: 1,
  toolVersion: '0.1.0',
  context: 'c',
  server: 'https://s',
  meshVersion: '1.7.0',
  createdAt: '2026-01-01T00:00:00Z',
  namespace: null,
  files: [
    {
      path: 'resources/trafficsplits.split.smi-spec.io.yaml',
      kind: 'TrafficSplit',
      group: 'split.smi-spec.io',
      version: 'v1alpha3',
      count: 2,
      sha256: sha256('x'),
    },
    { path: 'crds.yaml', kind: 'CustomResourceDefinition', count: 7, sha256: sha256('y') },
  ],
  absent: [{ kind: 'MeshConfig', reason: 'CRD meshconfigs.nsm.nginx.com is not installed' }],
  discoveryFailures: [],
};
const parse = (m: unknown) => () => parseManifest(JSON.stringify(m));

describe('manifest', () => {
  it('maps every catalog kind to resources/<plural>.<group>.yaml and back', () => {
    for (const k of catalog) expect(kindForPath(resourceFilePath(k))).toBe(k);
    expect(resourceFilePath(catalog[0]!)).toBe('resources/httproutegroups.specs.smi-spec.io.yaml');
  });

  it('parses a valid manifest', () => {
    const m = parseManifest(JSON.stringify(base));
    expect(m.files.map((f) => f.path)).toEqual(['resources/trafficsplits.split.smi-spec.io.yaml', 'crds.yaml']);
    expect(m.absent[0]!.kind).toBe('MeshConfig');
  });

  it.each([
    ['another format version', { ...base, formatVersion: 2 }, /formatVersion 2 is not supported/],
    [
      'a bad hash',
      { ...base, files: [{ ...base.files[0], sha256: 'nope' }] },
      /\/files\/0\/sha256 is "nope", not a SHA-256/,
    ],
    ['a negative count', { ...base, files: [{ ...base.files[0], count: -1 }] }, /\/files\/0\/count is -1, not a count/],
    ['a file listed twice', { ...base, files: [base.files[0], base.files[0]] }, /listed twice/],
    [
      'a kind that does not match its file',
      { ...base, files: [{ ...base.files[0], kind: 'RateLimit' }] },
      /must hold kind TrafficSplit/,
    ],
    [
      'a version the kind does not serve',
      { ...base, files: [{ ...base.files[0], version: 'v1' }] },
      /served as v1alpha3/,
    ],
    [
      'an absolute path',
      { ...base, files: [{ ...base.files[0], path: '/etc/passwd' }] },
      /not a catalog resource file/,
    ],
    [
      'crds.yaml with another kind',
      { ...base, files: [{ ...base.files[1], kind: 'Secret' }] },
      /must have kind CustomResourceDefinition/,
    ],
    ['a missing field', { ...base, server: 3 }, /\/server is a number, not a string/],
    ['an array', [], /the top level is an empty list, not an object/],
  ])('refuses %s', (_name, m, re) => {
    expect(parse(m)).toThrow(re);
  });
});
