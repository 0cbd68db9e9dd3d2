import { describe, expect, it } from 'vitest';
import { settled, waitFor } from '../../support/wait.ts';

describe('waitFor', () => {
  it('returns the first value the check gives, polling on the interval', async () => {
    let calls = 0;
    const t0 = Date.now();
    await expect(
      waitFor('the third call', async () => (++calls === 3 ? 'ready' : undefined), {
        timeoutMs: 5_000,
        intervalMs: 10,
      }),
    ).resolves.toBe('ready');
    expect(calls).toBe(3);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
  it('treats false as not yet, and names what it waited for when time is up', async () => {
    await expect(waitFor('the moon', async () => false, { timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(
      'timed out after 0 s waiting for the moon',
    );
  });
  it('adds, on timeout, what `why` reads then, or that it could not be read', async () => {
    let asked = 0;
    const why = async () => `held by ${++asked} finalizer`;
    await expect(waitFor('the CRD to go', async () => false, { timeoutMs: 30, intervalMs: 10, why })).rejects.toThrow(
      'timed out after 0 s waiting for the CRD to go: held by 1 finalizer',
    );
    expect(asked).toBe(1);
    const broken = async (): Promise<string> => {
      throw new Error('403 Forbidden');
    };
    await expect(
      waitFor('the CRD to go', async () => false, { timeoutMs: 30, intervalMs: 10, why: broken }),
    ).rejects.toThrow('waiting for the CRD to go: (could not read why: 403 Forbidden)');
  });
  it('fails at once when the check throws', async () => {
    let calls = 0;
    await expect(
      waitFor(
        'x',
        async () => {
          calls++;
          throw new Error('403 Forbidden');
        },
        { timeoutMs: 5_000, intervalMs: 10 },
      ),
    ).rejects.toThrow('403 Forbidden');
    expect(calls).toBe(1);
  });
});

describe('settled', () => {
  it('says whether the condition held in time', async () => {
    let calls = 0;
    expect(await settled(async () => ++calls >= 2, { timeoutMs: 5_000, intervalMs: 10 })).toBe(true);
    expect(await settled(async () => false, { timeoutMs: 30, intervalMs: 10 })).toBe(false);
  });
});
