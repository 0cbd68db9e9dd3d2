import { describe, expect, it } from 'vitest';
import { holderIsDeadHere, isLeaseFresh, leaseName } from '../../../src/engine/lease.ts';
import { takeover, type LeaseObject } from '../../../src/engine/lease-rules.ts';

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

describe('who may take over a lease (issue 23)', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const lease = (holder: string, renewedMsAgo: number): LeaseObject => ({
    metadata: { name: 'nsm-upgrade.m' },
    spec: { holderIdentity: holder, leaseDurationSeconds: 60, renewTime: new Date(t0 - renewedMsAgo).toISOString() },
  });
  const held = { what: 'upgrade h/pid-1/run-a', fix: 'That run was interrupted: continue it with --resume /b/a.' };
  const base = { ref: 'default/nsm-upgrade.m', serverNowMs: t0, deadHere: false };

  it("a resume takes over its own run's stale lease", () => {
    expect(takeover(lease('h/pid-1/run-a', 120_000), held, { ...base, resumeRunId: 'run-a' })).toEqual({ take: true });
  });
  it('a resume or rollback of another run does not take a stale lease without --break-lock, and says whose it is', () => {
    const t = takeover(lease('h/pid-1/run-a', 120_000), held, { ...base, resumeRunId: 'run-b' });
    expect(t).toMatchObject({ take: false, message: expect.stringContaining('not of run run-b') });
    expect(t.take === false && t.fix).toMatch(/--resume \/b\/a.*--break-lock/s);
    expect(
      takeover(lease('h/pid-1/run-a', 120_000), held, { ...base, resumeRunId: 'run-b', breakLock: true }),
    ).toMatchObject({ take: true, warn: expect.stringContaining('--break-lock') });
  });
  it("a fresh lease is never taken, unless it is this run's own and its process here is gone", () => {
    expect(
      takeover(lease('h/pid-1/run-a', 1_000), held, { ...base, resumeRunId: 'run-b', breakLock: true }),
    ).toMatchObject({ take: false, message: expect.stringContaining('another run holds lease default/nsm-upgrade.m') });
    expect(takeover(lease('h/pid-1/run-a', 1_000), held, { ...base, resumeRunId: 'run-a' })).toMatchObject({
      take: false,
    });
    expect(takeover(lease('h/pid-1/run-a', 1_000), held, { ...base, resumeRunId: 'run-a', deadHere: true })).toEqual({
      take: true,
    });
  });
  it("is judged on the server's clock: renewed a second ago there is fresh, whatever this machine's clock says", () => {
    const renewedOnServer = lease('h/pid-1/run-a', 1_000);
    expect(takeover(renewedOnServer, held, { ...base, resumeRunId: 'run-a', serverNowMs: t0 })).toMatchObject({
      take: false,
    });
    expect(takeover(renewedOnServer, held, { ...base, resumeRunId: 'run-a', serverNowMs: t0 + 61_000 })).toEqual({
      take: true,
    });
  });
});
