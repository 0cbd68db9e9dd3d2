/**
 * Bounded concurrency, the one home for it: `mapLimit` keeps at most `limit` calls in flight over
 * a list (a sliding window: the next item starts as soon as one ends, never in waves), and
 * `createLimiter` shares one limit between callers that start work on their own. Dependency-free,
 * so every layer may use it (backup, restore, the restart of workloads, the restart into the mesh).
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
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
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
      if (next)
        next(); // the slot passes straight to the next waiter
      else active--;
    }
  };
}

/**
 * Starts work as slots free up, for a producer that reads its items as it goes (a restore streaming
 * a backup file): `start(fn)` resolves once fn has started, so the producer reads the next item only
 * when a slot is free (back-pressure); `idle()` resolves when everything started has ended. fn must
 * not throw (its failures are its results).
 */
export function createStarter(limit: number): { start(fn: () => Promise<void>): Promise<void>; idle(): Promise<void> } {
  const max = Math.max(1, Math.floor(limit) || 1);
  let active = 0;
  const waiting: (() => void)[] = [];
  const running = new Set<Promise<void>>();
  return {
    async start(fn) {
      while (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      const p: Promise<void> = fn().finally(() => {
        active--;
        running.delete(p);
        waiting.shift()?.();
      });
      running.add(p);
    },
    async idle() {
      while (running.size) await Promise.all(running);
    },
  };
}

export interface SlowStartOptions {
  /** The widest the window grows (--concurrency). */
  limit: number;
  /** The gate: once this many items have failed, no further item starts (0: never stop). */
  maxFailures: number;
  /** Aborted (Ctrl-C): no further item starts. */
  signal?: AbortSignal | undefined;
}

export interface SlowStartResult<R> {
  /** By input index; undefined for an item never started. */
  results: (R | undefined)[];
  /** Input indexes of the items never started, in input order. */
  notStarted: number[];
  /** Why items were left unstarted: the failure gate closed, or the signal was aborted. */
  stoppedBy: 'gate' | 'signal' | undefined;
  /** Most items in flight at once. */
  peak: number;
}

/**
 * Slow start with a failure gate, as a careful operator rolls a fleet of workloads: one item
 * first, and the window widens by one for each item that finishes healthy (1, 2, 4, 8, ... per
 * round, like TCP's slow start) up to `limit`. An unhealthy result never widens it; once
 * `maxFailures` items are unhealthy the gate closes: nothing further starts, the items in flight
 * finish. `fn` must not throw for an unhealthy item (return it); a throw ends the run like
 * mapLimit's (the items in flight are not cancelled).
 */
export async function mapSlowStart<T, R>(
  items: readonly T[],
  opts: SlowStartOptions,
  fn: (item: T, index: number) => Promise<R>,
  healthy: (r: R) => boolean,
): Promise<SlowStartResult<R>> {
  const limit = Math.max(1, Math.floor(opts.limit) || 1);
  const results = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0,
    inFlight = 0,
    good = 0,
    bad = 0,
    peak = 0;
  let error: { err: unknown } | undefined;
  const gateClosed = () => opts.maxFailures > 0 && bad >= opts.maxFailures;
  const stopped = (): SlowStartResult<R>['stoppedBy'] =>
    gateClosed() ? 'gate' : opts.signal?.aborted ? 'signal' : undefined;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (error) {
        if (inFlight === 0) reject(error.err);
        return;
      }
      while (!stopped() && next < items.length && inFlight < Math.min(limit, 1 + good)) {
        const i = next++;
        inFlight++;
        peak = Math.max(peak, inFlight);
        fn(items[i]!, i)
          .then(
            (r) => {
              results[i] = r;
              if (healthy(r)) good++;
              else bad++;
            },
            (err: unknown) => {
              error ??= { err };
            },
          )
          .finally(() => {
            inFlight--;
            pump();
          });
      }
      if (inFlight === 0 && (stopped() || next >= items.length)) resolve();
    };
    pump();
  });
  const notStarted = Array.from({ length: items.length - next }, (_, k) => next + k);
  return { results, notStarted, stoppedBy: notStarted.length ? stopped() : undefined, peak };
}
