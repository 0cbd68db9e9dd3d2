/**
 * How test/run.ts deals the integration files to its shards (pure): the files pinned to shard 1 first
 * (they need what only its cluster has), then the others slowest first, each to the shard with the
 * least time so far, counting what a shard runs besides them (`startLoad`). A file without a recorded time counts as the median of those with one, so a new
 * file lands somewhere sensible until the times are recorded again.
 */

/** A file's path (test/integration/x.test.ts) -> its last measured wall time, in seconds. */
export type FileTimes = Record<string, number>;

export function dealShards(
  files: readonly string[],
  times: FileTimes,
  opts: { shards?: number; pinned?: readonly string[]; startLoad?: readonly number[] } = {},
): string[][] {
  const n = Math.max(1, opts.shards ?? 2);
  const known = files
    .map((f) => times[f])
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const median = known.length ? known[Math.floor(known.length / 2)]! : 1;
  const cost = (f: string) => times[f] ?? median;
  const pinned = new Set(opts.pinned ?? []);
  const shards: string[][] = Array.from({ length: n }, () => []);
  // What a shard runs besides the dealt files (shard 1: the unit tests), in seconds.
  const load: number[] = shards.map((_, i) => opts.startLoad?.[i] ?? 0);
  const put = (i: number, f: string) => {
    shards[i]!.push(f);
    load[i]! += cost(f);
  };
  for (const f of files) if (pinned.has(f)) put(0, f);
  const rest = files.filter((f) => !pinned.has(f)).sort((a, b) => cost(b) - cost(a) || a.localeCompare(b));
  for (const f of rest) put(load.indexOf(Math.min(...load)), f);
  return shards.map((s) => s.sort());
}
