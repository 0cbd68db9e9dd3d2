import { describe, expect, it } from 'vitest';
import { noReason, skipReason, slowest, slowestLines, tallyModules } from '../../support/tally-reporter.ts';

describe('skipReason', () => {
  it('prefers the ctx.skip note', () => {
    expect(skipReason(' no HELM4 in .cluster/env ', 'suite [skipped: other] > test')).toBe('no HELM4 in .cluster/env');
  });
  it('falls back to the innermost [skipped: ...] of the title chain', () => {
    expect(skipReason(undefined, 'npm install [skipped: esbuild is missing] > installs')).toBe('esbuild is missing');
    expect(skipReason('', 'a [skipped: outer] > b [skipped: inner]')).toBe('inner');
  });
  it('says so when a skip gives no reason', () => {
    expect(skipReason(undefined, 'a plain test')).toBe(noReason);
  });
});

describe('tallyModules', () => {
  const mod = (states: string[], errors: number) =>
    ({
      relativeModuleId: 'test/x.test.ts',
      errors: () => Array.from({ length: errors }, () => ({ message: 'Transform failed' })),
      children: { allTests: () => states.map((state) => ({ fullName: 't', result: () => ({ state }) })) },
    }) as never;
  it('counts a file that failed to load, and unhandled errors, as failures', () => {
    expect(tallyModules([mod(['passed', 'passed'], 0), mod([], 1)], 2)).toMatchObject({
      passed: 2,
      failed: 3,
      skipped: 0,
    });
  });
});

describe('slowest', () => {
  const timed = (id: string, load: number, run: number, tests: [string, number | undefined][]) =>
    ({
      relativeModuleId: id,
      diagnostic: () => ({
        environmentSetupDuration: 0,
        prepareDuration: load / 2,
        collectDuration: load / 2,
        setupDuration: 0,
        duration: run,
      }),
      children: {
        allTests: () =>
          tests.map(([fullName, ms]) => ({
            fullName,
            diagnostic: () => (ms === undefined ? undefined : { duration: ms }),
          })),
      },
    }) as never;
  const modules = [
    timed('a.test.ts', 1000, 2000, [
      ['a1', 1500],
      ['a2', 500],
    ]),
    timed('b.test.ts', 0, 9000, [
      ['b1', 100],
      ['not run', undefined],
    ]),
    timed('c.test.ts', 500, 500, [['c1', 400]]),
  ];
  it('ranks files by their wall time (loading, tests and hooks) and tests by their own, longest first', () => {
    const s = slowest(modules, 2);
    expect(s.files).toEqual([
      { name: 'b.test.ts', seconds: 9 },
      { name: 'a.test.ts', seconds: 3 },
    ]);
    expect(s.tests).toEqual([
      { name: 'a.test.ts > a1', seconds: 1.5 },
      { name: 'a.test.ts > a2', seconds: 0.5 },
    ]);
  });
  it('prints one line per file and test with its seconds', () => {
    expect(slowestLines(slowest(modules, 1))).toEqual([
      'slowest 1 files:',
      '      9.0 s  b.test.ts',
      'slowest 1 tests:',
      '      1.5 s  a.test.ts > a1',
    ]);
  });
});
