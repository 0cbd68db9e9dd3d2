import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { listAll } from '../kube/list.ts';
import { StepError } from '../errors.ts';

/**
 * OpenShift: after removal, the post-delete hook leaves Job `csi-driver-sentinel`, which loops until no
 * pod in the cluster carries `injector.nsm.nginx.com/status=injected`, then deletes the CSI driver pieces.
 * With ttlSecondsAfterFinished 0 the Job is deleted when done: that deletion is the signal to redeploy.
 */
export const sentinelJob = 'csi-driver-sentinel';
const injectedAnnotation = 'injector.nsm.nginx.com/status';

/** The pods that keep the sentinel waiting: every pod still annotated as injected. */
export async function podsBlockingSentinel(deps: Pick<Deps, 'kube'>): Promise<string[]> {
  // spiffe.io/spiffeid=true is set on every injected pod; the annotation is the sentinel's own test.
  const pods = await listAll<KubeObject>(deps.kube, collectionPath(core.pods), { labelSelector: 'spiffe.io/spiffeid=true' });
  return pods
    .filter((p) => p.metadata?.annotations?.[injectedAnnotation] === 'injected' && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp)
    .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)
    .sort();
}

async function jobExists(deps: Pick<Deps, 'kube'>, namespace: string): Promise<boolean> {
  try {
    await deps.kube.request({ path: objectPath(core.jobs, sentinelJob, namespace) });
    return true;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return false;
    throw err;
  }
}

/**
 * Waits until the sentinel Job is gone, watching it and reporting which pods still block it.
 * Returns at once when no sentinel exists (no injected pod was left at removal).
 */
export async function waitForSentinelGone(deps: Deps, opts: { namespace: string; timeoutMs: number; onProgress?: (message: string) => void; signal?: AbortSignal }): Promise<{ waitedMs: number; existed: boolean }> {
  const started = deps.clock.now();
  let existed = false;
  for (;;) {
    if (!(await jobExists(deps, opts.namespace))) return { waitedMs: deps.clock.now() - started, existed };
    existed = true;
    const blockers = await podsBlockingSentinel(deps);
    const shown = blockers.slice(0, 5).join(', ') + (blockers.length > 5 ? `, and ${blockers.length - 5} more` : '');
    opts.onProgress?.(blockers.length > 0
      ? `${sentinelJob} is waiting for ${blockers.length} injected pod(s) to go: ${shown}`
      : `${sentinelJob}: no injected pod is left; waiting for the Job to finish and be deleted`);
    if (deps.clock.now() - started > opts.timeoutMs) {
      throw new StepError('wait-sentinel', `Job ${opts.namespace}/${sentinelJob} still exists after ${Math.round(opts.timeoutMs / 1000)}s; ${blockers.length} injected pod(s) block it${blockers.length ? `: ${shown}` : ''}`,
        'Re-roll or delete those pods (kubectl nsm-upgrade restart --restart all --delete-bare-pods), then resume.');
    }
    // Watch the Job for up to 5 s: a DELETED event ends the wait early; otherwise re-check blockers.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 5000);
    opts.signal?.addEventListener('abort', () => ac.abort(), { once: true });
    try {
      await deps.kube.watch(collectionPath(core.jobs, opts.namespace), { fieldSelector: `metadata.name=${sentinelJob}`, timeoutSeconds: 5 }, (e) => {
        if (e.type === 'DELETED') ac.abort();
      }, ac.signal);
    } catch (err) {
      deps.log.debug(`sentinel watch ended: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (opts.signal?.aborted) throw new StepError('wait-sentinel', 'interrupted while waiting for the sentinel Job');
  }
}
