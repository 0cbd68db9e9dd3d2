/** src/memory.ts: the restore's tick runs V8's full collection on every n-th part, and that collection is real. */
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectEvery, fullCollection } from '../../../src/memory.ts';
import { collectEveryParts } from '../../../src/backup/restore.ts';

describe('collectEvery', () => {
  it('collects on every n-th tick only', () => {
    const at: number[] = [];
    let tick = 0;
    const t = collectEvery(3, () => at.push(tick));
    for (tick = 1; tick <= 10; tick++) t();
    expect(at).toEqual([3, 6, 9]);
    const every = collectEvery(1, () => at.push(-1));
    every();
    every();
    expect(at.slice(3)).toEqual([-1, -1]);
  });

  it('refuses a count that is not a whole number >= 1', () => {
    for (const n of [0, -1, 2.5, Number.NaN]) expect(() => collectEvery(n, () => undefined)).toThrow(RangeError);
  });

  it("the restore's default is every 20 parts (2,000 objects), as measured in docs/window.md", () => {
    expect(collectEveryParts).toBe(20);
  });
});

describe('fullCollection', () => {
  it("is V8's own: garbage that was on the heap is gone after it, and a second call gives the same function", () => {
    const gc = fullCollection();
    expect(fullCollection()).toBe(gc);
    gc();
    const before = v8.getHeapStatistics().used_heap_size;
    let garbage: { i: number; s: string }[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({
      i,
      s: `object ${i}`,
    }));
    const withGarbage = v8.getHeapStatistics().used_heap_size;
    expect(garbage.length).toBe(300_000);
    garbage = undefined;
    gc();
    const after = v8.getHeapStatistics().used_heap_size;
    expect(withGarbage - before).toBeGreaterThan(10_000_000);
    expect(after).toBeLessThan(before + (withGarbage - before) / 4);
  });
});
