import { describe, expect, it } from 'vitest';
import { dealShards } from '../../support/shards.ts';

describe('dealShards', () => {
  it('deals the slowest first, each to the shard with less time so far', () => {
    const times = { a: 100, b: 60, c: 50, d: 40, e: 10 };
    // a -> 1 (100); b -> 2 (60); c -> 2 (110); d -> 1 (140); e -> 2 (120)
    expect(dealShards(['a', 'b', 'c', 'd', 'e'], times)).toEqual([
      ['a', 'd'],
      ['b', 'c', 'e'],
    ]);
  });

  it('keeps pinned files in shard 1 and counts their time', () => {
    const times = { fleet: 200, a: 100, b: 90, c: 10 };
    expect(dealShards(['a', 'b', 'c', 'fleet'], times, { pinned: ['fleet'] })).toEqual([['fleet'], ['a', 'b', 'c']]);
  });

  it('counts a file without a recorded time as the median of the others', () => {
    // median of [10, 30, 50] is 30: new (30) goes after big (50) to the other shard, then small (10) and mid (30) balance.
    const [one = [], two = []] = dealShards(['big', 'mid', 'new', 'small'], { big: 50, mid: 30, small: 10 });
    expect([...one, ...two].sort()).toEqual(['big', 'mid', 'new', 'small']);
    expect(one).toEqual(['big', 'small']);
    expect(two).toEqual(['mid', 'new']);
  });

  it("counts what a shard runs besides the files (shard 1's unit tests)", () => {
    const times = { a: 50, b: 40, c: 30, d: 20 };
    // shard 1 starts at 60: a -> 2 (50); b -> 2 (90); c -> 1 (90); d -> 1 (110, the first of two equal loads)
    expect(dealShards(['a', 'b', 'c', 'd'], times, { startLoad: [60] })).toEqual([
      ['c', 'd'],
      ['a', 'b'],
    ]);
  });

  it('deals to three shards', () => {
    const times = { a: 90, b: 60, c: 50, d: 40, e: 30, f: 20 };
    // a -> 1 (90); b -> 2 (60); c -> 3 (50); d -> 3 (90); e -> 2 (90); f -> 1 (110)
    expect(dealShards(['a', 'b', 'c', 'd', 'e', 'f'], times, { shards: 3 })).toEqual([
      ['a', 'f'],
      ['b', 'e'],
      ['c', 'd'],
    ]);
  });

  it('puts every file in exactly one shard, also with no times at all', () => {
    const files = ['x', 'y', 'z'];
    const [one = [], two = []] = dealShards(files, {});
    expect([...one, ...two].sort()).toEqual(files);
    expect(one.filter((f) => two.includes(f))).toEqual([]);
  });
});
