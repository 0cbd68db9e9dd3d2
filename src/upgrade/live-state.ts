import type { Deps } from '../deps.ts';
import { detectInstall, type Install } from '../mesh/detect.ts';
import { UsageError } from '../errors.ts';

/**
 * What is installed right now, or undefined when no mesh is found. Steps use it to stay
 * idempotent on --resume: an upgrade already on its target, a remove already done, a deploy
 * already running the target version are each recognised and not repeated.
 */
export async function installedNow(deps: Deps, meshNamespace: string, release: string | undefined): Promise<Install | undefined> {
  try {
    return await detectInstall(deps, { meshNamespace, release });
  } catch (err) {
    if (err instanceof UsageError) return undefined;
    throw err;
  }
}
