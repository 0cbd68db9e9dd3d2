/**
 * CRDs whose deletion stalled on the API server, and the nudge that restarts it.
 *
 * The API server deletes a CRD only once its cleanup (the customresourcecleanup finalizer's controller,
 * apiextensions-apiserver's crd_finalizer.go) has deleted the CRD's objects, which it lists first. A list
 * made while the server's storage for that CRD is still starting fails at once since Kubernetes 1.31
 * ("could not list instances: storage is (re)initializing", KEP 4568), and the controller's own retry
 * may then not come for minutes: on the local cluster, deleting the seven NSM 1.6.0 CRDs right after
 * creating them stalled in 3 of 15 rounds, one for 287 s. The controller tries again at once when the
 * CRD changes in anything but its Terminating condition, so whoever waits for such a CRD to go touches
 * it: an annotation with the time, at most every 5 s per CRD. The CRD is being deleted already; the
 * annotation goes with it.
 */
import type { Clock } from '../clock.ts';
import { KubeApiError, type Kube, type KubeObject } from './client.ts';
import { core, objectPath } from './paths.ts';

export const deletionRetryAnnotation = 'nsm-upgrade.nginx.com/deletion-retried';
const nudgeEveryMs = 5000;

export interface CrdCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
export type DeletingCrd = KubeObject & {
  metadata?: KubeObject['metadata'] & { deletionTimestamp?: string };
  status?: { conditions?: CrdCondition[] };
};

/** Pure: why the CRD's deletion is stalled (its cleanup failed), or undefined while it is not. */
export function stalledDeletion(crd: DeletingCrd): string | undefined {
  if (!crd.metadata?.deletionTimestamp) return undefined;
  const t = crd.status?.conditions?.find((c) => c.type === 'Terminating');
  return t?.status === 'True' && t.reason === 'InstanceDeletionFailed' ? (t.message ?? t.reason) : undefined;
}

/**
 * A nudger for one wait: given the CRDs the wait sees, touches each whose deletion stalled (at most every
 * 5 s each) and says so through `say`. Best effort: a CRD gone meanwhile is skipped, and a server that
 * refuses the patch (403) is told once and not asked again; the wait goes on either way.
 */
export function crdDeletionNudger(
  deps: { kube: Kube; clock: Clock },
  say: (line: string) => void = () => {},
): (crds: readonly DeletingCrd[]) => Promise<void> {
  const last = new Map<string, number>();
  let refused = false;
  return async (crds) => {
    for (const crd of crds) {
      const why = stalledDeletion(crd);
      const name = crd.metadata?.name;
      if (refused || !why || !name) continue;
      const now = deps.clock.now();
      const before = last.get(name);
      if (before !== undefined && now - before < nudgeEveryMs) continue;
      last.set(name, now);
      try {
        await deps.kube.request({
          method: 'PATCH',
          path: objectPath(core.crds, name),
          body: { metadata: { annotations: { [deletionRetryAnnotation]: new Date(now).toISOString() } } },
        });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) continue;
        if (err instanceof KubeApiError && err.status === 403) {
          refused = true;
          say(
            `CRD ${name}: the API server's cleanup of it failed (${why}); not allowed to touch it so the server retries: waiting`,
          );
          continue;
        }
        throw err;
      }
      say(`CRD ${name}: the API server's cleanup of it failed (${why}); touched it so the server retries`);
    }
  };
}
