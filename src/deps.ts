import type { Kube } from './kube/client.ts';
import type { Runner } from './exec/runner.ts';
import type { Log } from './log.ts';
import type { Clock } from './clock.ts';

export { realClock, type Clock } from './clock.ts';

/**
 * Every side effect enters through this one object (ARCHITECTURE.md, "The layers"): the API server, external
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

/**
 * What a fleet run (many clusters) needs instead of one API client: `cluster(...)` gives the Deps
 * of one cluster (the survey, the checks after each run and after the soak), `exec` runs each
 * cluster's upgrade, which is this tool's own command line (`self`) as a child process.
 */
export interface FleetDeps extends Omit<Deps, 'kube'> {
  cluster(target: { context: string; kubeconfig?: string | undefined }): Promise<Deps>;
  /** The command that starts this tool: node with its flags and script, or the single executable. */
  self: readonly string[];
  /** $PATH, where nginx-meshctl binaries are looked for when none is given. */
  pathEnv?: string | undefined;
}
