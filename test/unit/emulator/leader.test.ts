import { describe, expect, it } from 'vitest';
import { leaseNameFor, mayHold, microTime } from '../../emulator/leader.ts';

describe('leader lease', () => {
  const now = Date.parse('2026-01-01T00:00:30Z');
  it('may hold a free, own or expired lease, not a live one of another instance', () => {
    expect(mayHold(undefined, 'me', now)).toBe(true);
    expect(mayHold({ holderIdentity: '' }, 'me', now)).toBe(true);
    expect(
      mayHold({ holderIdentity: 'me', renewTime: '2026-01-01T00:00:29.000000Z', leaseDurationSeconds: 15 }, 'me', now),
    ).toBe(true);
    expect(
      mayHold(
        { holderIdentity: 'other', renewTime: '2026-01-01T00:00:20.000000Z', leaseDurationSeconds: 15 },
        'me',
        now,
      ),
    ).toBe(false);
    expect(
      mayHold(
        { holderIdentity: 'other', renewTime: '2026-01-01T00:00:10.000000Z', leaseDurationSeconds: 15 },
        'me',
        now,
      ),
    ).toBe(true);
  });
  it('writes MicroTime with microseconds', () => {
    expect(microTime(Date.parse('2026-01-01T00:00:01.234Z'))).toBe('2026-01-01T00:00:01.234000Z');
  });
});

describe('leaseNameFor', () => {
  it('shares one lease for unscoped instances and one per scope otherwise', () => {
    expect(leaseNameFor({})).toBe('nsm-mesh-emulator');
    expect(leaseNameFor({ a: '1', b: '2' })).toBe(leaseNameFor({ b: '2', a: '1' }));
    expect(leaseNameFor({ a: '1' })).not.toBe(leaseNameFor({ a: '2' }));
    expect(leaseNameFor({ a: '1' })).toMatch(/^nsm-mesh-emulator-[0-9a-f]{10}$/);
  });
});
