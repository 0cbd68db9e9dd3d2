/**
 * The clock, injectable so tests can run backoff and timeouts without waiting. It is part of
 * Deps (deps.ts re-exports it), and lives apart so the kube client, which Deps holds, can take
 * one without importing deps.ts (that import made a cycle).
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // The listener goes when the time is up: a wait's many pauses share one signal.
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
