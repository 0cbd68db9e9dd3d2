/**
 * Bounded concurrency, the one home for it: `mapLimit` keeps at most `limit` calls in flight over
 * a list (a sliding window: the next item starts as soon as one ends, never in waves), and
 * `createLimiter` shares one limit between callers that start work on their own. Dependency-free,
 * so every layer may use it (backup, restore, the re-roll of workloads, the re-inject step).
 */

/** The number of workers for `limit` over `count` items: at least 1, whole, never more than the items. */
function width(limit: number, count: number): number {
  return Math.min(count, Math.max(1, Math.floor(limit) || 1));
}

/**
 * Runs `fn` over `items` with at most `limit` in flight, results in input order. When a call
 * fails, no further item is started and the returned promise rejects with that error (calls
 * already running are not cancelled).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  await Promise.all(Array.from({ length: width(limit, items.length) }, worker));
  return results;
}

/** A shared limit across several callers: `run(fn)` waits for a free slot, then runs fn. */
export function createLimiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else active--;
    }
  };
}
