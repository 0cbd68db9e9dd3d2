import { describe, expect, it } from 'vitest';
import { outputFormat, parseConcurrency, parseDuration } from '../../../src/cli/options.ts';
import { UsageError } from '../../../src/errors.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ])('%s = %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', 'ten minutes', '5x', '-1s', '0s', '10m junk'])(
    'rejects %j with a usage error naming the flag',
    (text) => {
      expect(() => parseDuration(text)).toThrow(UsageError);
      expect(() => parseDuration(text)).toThrow(/--timeout/);
    },
  );
});

describe('parseConcurrency and outputFormat', () => {
  it('accepts 1..256 and rejects the rest', () => {
    expect(parseConcurrency(1)).toBe(1);
    expect(parseConcurrency(256)).toBe(256);
    for (const bad of [0, 257, 1.5, Number.NaN]) expect(() => parseConcurrency(bad)).toThrow(UsageError);
  });
  it('defaults the output format and refuses unsupported ones', () => {
    expect(outputFormat(undefined, ['text', 'json'] as const, 'text')).toBe('text');
    expect(outputFormat('json', ['text', 'json'] as const, 'text')).toBe('json');
    let err: unknown;
    try {
      outputFormat('xml', ['text', 'json'] as const, 'text');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toBe('Use -o text|json.');
  });
});
