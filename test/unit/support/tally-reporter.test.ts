import { describe, expect, it } from 'vitest';
import { noReason, skipReason } from '../../support/tally-reporter.ts';

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
