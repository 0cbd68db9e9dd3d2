import { describe, expect, it } from 'vitest';
import { compareVersions, isAtLeast, minorOf, normalizeVersion, parseVersion } from '../../../src/version-compare.ts';

describe('parseVersion / normalizeVersion', () => {
  it.each([
    ['1.7.0', '1.7.0'],
    ['v1.7.0', '1.7.0'],
    ['1.7', '1.7.0'],
    [' 2.0.0 ', '2.0.0'],
    ['v2.0', '2.0.0'],
  ])('%s -> %s', (text, want) => expect(normalizeVersion(text)).toBe(want));
  it.each(['', 'latest', '1', '1.7.0-rc1', '1.7.0.1', 'x1.7.0', '1.7.0+build'])('refuses %j', (text) => {
    expect(parseVersion(text)).toBeUndefined();
  });
});

describe('compareVersions', () => {
  it('orders by major, minor, patch numerically (not as text)', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBeGreaterThan(0);
    expect(compareVersions('2.0.0', '1.7.0')).toBeGreaterThan(0);
    expect(compareVersions('1.4.1', '1.4.0')).toBeGreaterThan(0);
    expect(compareVersions('v1.6', '1.6.0')).toBe(0);
  });
  it('throws on a non-version', () => expect(() => compareVersions('x', '1.0.0')).toThrow(/not a version/));
});

describe('compareVersions (was also a lenient copy in mesh/catalog.ts)', () => {
  it('compares versions numerically', () => {
    expect(compareVersions('1.10.0', '1.5.0')).toBeGreaterThan(0);
    expect(compareVersions('v1.5.0', '1.5')).toBe(0);
    expect(compareVersions('1.4.1', '1.5.0')).toBeLessThan(0);
  });
});

describe('isAtLeast (was also a local atLeast in controlplane/meshctl.ts and deploy-flags.ts)', () => {
  it.each([
    ['2.0.0', '2.0.0', true],
    ['v2.0.0', '2.0.0', true],
    ['2.0', '2.0.0', true],
    ['1.7.0', '2.0.0', false],
    ['1.10.0', '1.9.0', true],
    ['1.6.0', '1.6.1', false],
  ] as const)('%s >= %s is %s', (v, bound, want) => expect(isAtLeast(v, bound)).toBe(want));
  it('throws on a non-version', () => expect(() => isAtLeast('latest', '2.0.0')).toThrow(/not a version/));
});

describe('minorOf', () => {
  it('is the unit of a hop', () => {
    expect(minorOf('1.7.3')).toBe('1.7');
    expect(minorOf('v2.0')).toBe('2.0');
  });
});
