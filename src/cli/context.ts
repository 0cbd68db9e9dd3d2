import fs from 'node:fs/promises';
import type { Deps } from '../deps.ts';
import { realClock } from '../deps.ts';
import { createKube } from '../kube/client.ts';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { createLog } from '../log.ts';
import { lazyRunner } from './lazy-runner.ts';
import type { GlobalOptions } from './options.ts';

/**
 * Builds the real Deps from the global flags, and --dry-run for the commands that take it (the
 * runner then skips writes). Only called by commands that need a cluster.
 */
export async function createDeps(opts: Pick<GlobalOptions, 'kubeconfig' | 'context' | 'verbose'> & { dryRun?: boolean }): Promise<Deps> {
  const log = createLog({ verbose: opts.verbose });
  const kc = loadKubeConfig(opts);
  const kube = await createKube(kc, { log: (m) => log.debug(m) });
  return { kube, exec: lazyRunner({ dryRun: opts.dryRun ?? false, log }), fs, clock: realClock, log };
}
