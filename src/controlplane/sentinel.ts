import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { listAll } from '../kube/list.ts';
import { StepError } from '../errors.ts';
import { watchUntil } from '../kube/watch-until.ts';
import { notYet, ready, waitFor } from '../wait.ts';

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
  const pods = await listAll<KubeObject>(deps.kube, collectionPath(core.pods), {
    labelSelector: 'spiffe.io/spiffeid=true',
  });
  return pods
    .filter(
      (p) =>
        p.metadata?.annotations?.[injectedAnnotation] === 'injected' &&
        !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp,
    )
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
export async function waitForSentinelGone(
  deps: Deps,
  opts: { namespace: string; timeoutMs: number; onProgress?: (message: string) => void; signal?: AbortSignal },
): Promise<{ waitedMs: number; existed: boolean }> {
  const started = deps.clock.now();
  let existed = false;
  const shown = (blockers: string[]) =>
    blockers.slice(0, 5).join(', ') + (blockers.length > 5 ? `, and ${blockers.length - 5} more` : '');
  return waitFor<{ waitedMs: number; existed: boolean }, string[]>(
    {
      clock: deps.clock,
      timeoutMs: opts.timeoutMs,
      intervalMs: 5000,
      signal: opts.signal,
      what: `Job ${opts.namespace}/${sentinelJob} to be gone`,
      progress: (blockers) =>
        opts.onProgress?.(
          blockers.length > 0
            ? `${sentinelJob} is waiting for ${blockers.length} injected pod(s) to go: ${shown(blockers)}`
            : `${sentinelJob}: no injected pod is left; waiting for the Job to finish and be deleted`,
        ),
      timeoutError: (blockers) =>
        new StepError(
          'wait-sentinel',
          `Job ${opts.namespace}/${sentinelJob} still exists after ${Math.round(opts.timeoutMs / 1000)}s; ${blockers.length} injected pod(s) block it${blockers.length ? `: ${shown(blockers)}` : ''}`,
          'Restart or delete those pods (kubectl nsm-upgrade restart --restart all --delete-bare-pods), then resume.',
        ),
      // Between two checks, watch the Job: its deletion ends the pause early.
      pause: (ms, signal) =>
        watchUntil(
          deps,
          {
            path: collectionPath(core.jobs, opts.namespace),
            query: { fieldSelector: `metadata.name=${sentinelJob}` },
            until: (e) => e.type === 'DELETED',
            log: (m) => deps.log.debug(`sentinel watch ended: ${m}`),
          },
          ms,
          signal,
        ).catch((err: unknown) => {
          throw signal?.aborted
            ? new StepError('wait-sentinel', 'interrupted while waiting for the sentinel Job')
            : err;
        }),
    },
    async () => {
      if (!(await jobExists(deps, opts.namespace))) return ready({ waitedMs: deps.clock.now() - started, existed });
      existed = true;
      return notYet(await podsBlockingSentinel(deps));
    },
  );
}
