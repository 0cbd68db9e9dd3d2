import fs from 'node:fs/promises';
import type { Deps } from '../deps.ts';
import { realClock } from '../deps.ts';
import { UsageError } from '../errors.ts';
import type { HttpVersionOption } from '../kube/transport-types.ts';
import { createKube } from '../kube/client.ts';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { createLog } from '../log.ts';
import { lazyRunner } from './lazy-runner.ts';
import type { GlobalOptions } from './options.ts';

/**
 * Builds the real Deps from the global flags, and --dry-run for the commands that take it (the
 * runner then skips writes). Only called by commands that need a cluster.
 */
export async function createDeps(
  opts: Pick<GlobalOptions, 'kubeconfig' | 'context' | 'verbose'> & { dryRun?: boolean },
): Promise<Deps> {
  const log = createLog({ verbose: opts.verbose });
  const kc = loadKubeConfig(opts);
  const kube = await createKube(kc, { log: (m) => log.debug(m), http: httpVersion(process.env.NSM_UPGRADE_HTTP) });
  return { kube, exec: lazyRunner({ dryRun: opts.dryRun ?? false, log }), fs, clock: realClock, log };
}

/** NSM_UPGRADE_HTTP: unset or `auto` (HTTP/2 where the server offers it), or `1.1` to force HTTP/1.1 (a proxy that mishandles h2). */
export function httpVersion(value: string | undefined): HttpVersionOption {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === '1.1') return '1.1';
  throw new UsageError(
    `NSM_UPGRADE_HTTP=${JSON.stringify(value)} is not a choice`,
    'Set NSM_UPGRADE_HTTP=1.1 to force HTTP/1.1, or unset it (HTTP/2 where the API server offers it).',
  );
}
