import { describe, expect, it } from 'vitest';
import { createLimiter, mapLimit } from '../../../src/concurrency.ts';

/** A promise the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('bounded concurrency', () => {
  it('never runs more than the limit at once and keeps result order', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, n));
      active--;
      return n * 2;
    });
    expect(out).toEqual([10, 2, 6, 4, 8]);
    expect(peak).toBe(2);
    const run = createLimiter(3);
    active = 0;
    peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 2));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it('is a sliding window: the next item starts as soon as one ends, not when the whole wave has', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const all = mapLimit([0, 1, 2], 2, async (i) => {
      started.push(i);
      await gates[i]!.promise;
    });
    await flush();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve(); // item 0 is still running
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    await all;
  });

  it('starts no further item after one failed, and rejects with its error', async () => {
    const gates = [deferred(), deferred()];
    const started: number[] = [];
    const all = mapLimit([0, 1, 2, 3], 2, async (i) => {
      started.push(i);
      if (i < 2) await gates[i]!.promise;
    });
    const outcome = all.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await flush();
    gates[0]!.reject(new Error('403 forbidden'));
    expect(await outcome).toBe('403 forbidden');
    gates[1]!.resolve();
    await flush();
    expect(started).toEqual([0, 1]);
  });

  it.each([
    [5, 2, 2, 'the limit when there are more items'],
    [4, 4, 4, 'everything at once when everything fits'],
    [2, 8, 2, 'never more workers than items'],
    [0, 3, 0, 'nothing to do: nothing runs'],
    [3, 0, 1, 'a limit below 1 is treated as 1'],
    [3, 2.5, 2, 'a fractional limit is rounded down'],
  ])('%i items, limit %d: at most %i at once (%s)', async (n, limit, peakWanted) => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      limit,
      async (i) => {
        active++;
        peak = Math.max(peak, active);
        await flush();
        active--;
        return i;
      },
    );
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(peak).toBe(peakWanted);
  });
});
