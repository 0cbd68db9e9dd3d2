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
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
    }),
};
