import { describe, expect, it } from 'vitest';
import { holderIsDeadHere, isLeaseFresh, leaseName } from '../../../src/upgrade/lease.ts';

describe('lease rules', () => {
  const at = (iso: string) => ({ metadata: { name: 'x' }, spec: { renewTime: iso, leaseDurationSeconds: 60 } });
  it('is fresh until renewTime + duration', () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    expect(isLeaseFresh(at('2026-01-01T00:00:00.000000Z'), t + 59_000)).toBe(true);
    expect(isLeaseFresh(at('2026-01-01T00:00:00.000000Z'), t + 61_000)).toBe(false);
    expect(isLeaseFresh({ metadata: { name: 'x' }, spec: {} }, t)).toBe(false);
  });
  it('recognises a holder process on this host that is gone', () => {
    const alive = (pid: number) => pid === 42;
    expect(holderIsDeadHere('host-a/pid-7/run1', 'host-a', alive)).toBe(true);
    expect(holderIsDeadHere('host-a/pid-42/run1', 'host-a', alive)).toBe(false);
    expect(holderIsDeadHere('host-b/pid-7/run1', 'host-a', alive)).toBe(false);
    expect(holderIsDeadHere('garbage', 'host-a', alive)).toBe(false);
    expect(holderIsDeadHere(undefined, 'host-a', alive)).toBe(false);
  });
  it('names the lease after the mesh namespace', () => {
    expect(leaseName('nginx-mesh')).toBe('nsm-upgrade.nginx-mesh');
  });
});
