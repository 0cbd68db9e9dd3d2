import { describe, expect, it } from 'vitest';
import { mapSlowStart } from '../../../src/concurrency.ts';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** Items the test finishes one by one: `started` in start order, `finish(i, ok)` settles item i. */
function harness(n: number) {
  const gates = Array.from({ length: n }, () => deferred<boolean>());
  const started: number[] = [];
  const fn = async (_: number, i: number) => {
    started.push(i);
    return gates[i]!.promise;
  };
  return {
    started,
    fn,
    finish: async (i: number, ok = true) => {
      gates[i]!.resolve(ok);
      await flush();
    },
  };
}

describe('slow start with a failure gate', () => {
  it('starts one item, then widens by one per healthy finish: 1, 2, 4 at once, up to the limit', async () => {
    const h = harness(12);
    const run = mapSlowStart(
      Array.from({ length: 12 }, (_, i) => i),
      { limit: 4, maxFailures: 1 },
      h.fn,
      (ok) => ok,
    );
    await flush();
    expect(h.started).toEqual([0]);
    await h.finish(0);
    expect(h.started).toEqual([0, 1, 2]); // window 2
    await h.finish(1);
    await h.finish(2);
    expect(h.started).toEqual([0, 1, 2, 3, 4, 5, 6]); // window 4: 3..6 in flight
    await h.finish(3);
    expect(h.started).toHaveLength(8); // the limit holds the window at 4
    for (let i = 4; i < 12; i++) await h.finish(i);
    const r = await run;
    expect(r).toMatchObject({ notStarted: [], stoppedBy: undefined, peak: 4 });
    expect(r.results.every((x) => x === true)).toBe(true);
  });

  it('closes the gate at the first failure: the first workload fails, nothing else starts', async () => {
    const h = harness(12);
    const run = mapSlowStart(
      Array.from({ length: 12 }, (_, i) => i),
      { limit: 8, maxFailures: 1 },
      h.fn,
      (ok) => ok,
    );
    await flush();
    await h.finish(0, false);
    const r = await run;
    expect(h.started).toEqual([0]);
    expect(r.stoppedBy).toBe('gate');
    expect(r.notStarted).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(r.results[0]).toBe(false);
  });

  it('lets the items in flight finish after the gate closes, and a failure never widens the window', async () => {
    const h = harness(10);
    const run = mapSlowStart(
      Array.from({ length: 10 }, (_, i) => i),
      { limit: 8, maxFailures: 2 },
      h.fn,
      (ok) => ok,
    );
    await flush();
    await h.finish(0);
    expect(h.started).toEqual([0, 1, 2]);
    await h.finish(1, false); // one failure: window stays at 2, so one replaces it
    expect(h.started).toEqual([0, 1, 2, 3]);
    await h.finish(3, false); // second failure: the gate closes with item 2 still in flight
    expect(h.started).toEqual([0, 1, 2, 3]);
    let settled = false;
    void run.then(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false); // waits for item 2
    await h.finish(2);
    const r = await run;
    expect(r.stoppedBy).toBe('gate');
    expect(r.notStarted).toEqual([4, 5, 6, 7, 8, 9]);
    expect(r.results.slice(0, 4)).toEqual([true, false, true, false]);
  });

  it('with --max-failures 0 never stops for failures', async () => {
    const r = await mapSlowStart(
      [1, 2, 3, 4, 5],
      { limit: 2, maxFailures: 0 },
      async () => false,
      (ok) => ok,
    );
    expect(r).toMatchObject({ notStarted: [], stoppedBy: undefined, peak: 1 });
    expect(r.results).toEqual([false, false, false, false, false]);
  });

  it('starts nothing further once the signal is aborted', async () => {
    const h = harness(5);
    const abort = new AbortController();
    const run = mapSlowStart([0, 1, 2, 3, 4], { limit: 4, maxFailures: 1, signal: abort.signal }, h.fn, (ok) => ok);
    await flush();
    abort.abort();
    await h.finish(0);
    const r = await run;
    expect(h.started).toEqual([0]);
    expect(r).toMatchObject({ stoppedBy: 'signal', notStarted: [1, 2, 3, 4] });
  });

  it('rejects with a thrown error once the items in flight are done, starting nothing more', async () => {
    const h = harness(6);
    const run = mapSlowStart(
      [0, 1, 2, 3, 4, 5],
      { limit: 4, maxFailures: 3 },
      async (x, i) => {
        if (i === 1) throw new Error('API down');
        return h.fn(x, i);
      },
      (ok) => ok,
    );
    await flush();
    await h.finish(0); // window 2: items 1 (throws) and 2 start
    let outcome: unknown;
    void run.catch((e: Error) => {
      outcome = e.message;
    });
    await flush();
    expect(outcome).toBeUndefined(); // item 2 still runs
    await h.finish(2);
    await flush();
    expect(outcome).toBe('API down');
    expect(h.started).toEqual([0, 2]);
  });
});
