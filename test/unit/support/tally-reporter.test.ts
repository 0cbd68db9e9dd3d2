import { describe, expect, it } from 'vitest';
import { noReason, skipReason, tallyModules } from '../../support/tally-reporter.ts';

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
  const mod = (states: string[], errors: number) => ({
    relativeModuleId: 'test/x.test.ts',
    errors: () => Array.from({ length: errors }, () => ({ message: 'Transform failed' })),
    children: { allTests: () => states.map((state) => ({ fullName: 't', result: () => ({ state }) })) },
  }) as never;
  it('counts a file that failed to load, and unhandled errors, as failures', () => {
    expect(tallyModules([mod(['passed', 'passed'], 0), mod([], 1)], 2)).toMatchObject({ passed: 2, failed: 3, skipped: 0 });
  });
});
