import type { Runner } from '../exec/runner.ts';
import type { Log } from '../log.ts';

/**
 * The runner of external commands (exec/runner.ts), with it and execa imported at the first
 * command: status, backup and restore run none, and skip loading them (issue 18, start-up time).
 * Until then no command runs, so there is nothing to signal or stop.
 */
export function lazyRunner(opts: { dryRun: boolean; log: Log }): Runner {
  let loading: Promise<Runner> | undefined;
  let loaded: Runner | undefined;
  const load = () => (loading ??= import('../exec/runner.ts').then((m) => (loaded = m.createRunner(opts))));
  return {
    dryRun: opts.dryRun,
    run: async (cmd, hooks) => (await load()).run(cmd, hooks),
    signalAll: (signal) => loaded?.signalAll(signal),
    stopAll: async (graceMs) => {
      if (loading) await (await loading).stopAll(graceMs);
    },
  };
}
