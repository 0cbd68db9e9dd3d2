import type { Kube } from './kube/client.ts';
import type { Runner } from './controlplane/runner.ts';
import type { Log } from './log.ts';
import type { Clock } from './clock.ts';

export { realClock, type Clock } from './clock.ts';

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
