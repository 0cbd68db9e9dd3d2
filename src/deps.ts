import type { Kube } from './kube/client.ts';
import type { Runner } from './controlplane/runner.ts';
import type { Log } from './log.ts';

/** The clock, injectable so tests can run backoff and timeouts without waiting. */
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

/**
 * Every side effect enters through this one object (DESIGN.md): the API server, external
 * commands, the file system, the clock and the log. Real defaults are built in cli/context.ts;
 * tests pass fakes or a client for a real test cluster.
 */
export interface Deps {
  kube: Kube;
  exec: Runner;
  fs: typeof import('node:fs/promises');
  clock: Clock;
  log: Log;
}
