/**
 * The API client a run's steps use: reads pass, and every write (POST, PUT, PATCH, DELETE) first
 * checks that the run still holds its lease. Once the lease is lost (taken over, or not renewed within
 * its grace period during an API outage: lease.ts) no further write leaves the tool, whatever step is
 * running; the step fails with the lease's own error, which says so.
 */
import type { Kube, KubeRequest } from '../kube/client.ts';
import { LeaseLostError } from './lease.ts';

/** `lost`: the held lease's signal, undefined until the lease is taken (no step runs before). */
export function fenceWrites(kube: Kube, lost: () => AbortSignal | undefined): Kube {
  const check = (r: KubeRequest) => {
    if ((r.method ?? 'GET') === 'GET') return;
    const signal = lost();
    if (!signal) throw new LeaseLostError(`no lease is held: ${r.method} ${r.path} was not sent`);
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : new LeaseLostError(String(signal.reason));
  };
  return {
    get server() {
      return kube.server;
    },
    get context() {
      return kube.context;
    },
    get retries() {
      return kube.retries;
    },
    pinnedKubeconfig: () => kube.pinnedKubeconfig(),
    serverNow: () => kube.serverNow(),
    request: async <T>(r: KubeRequest) => {
      check(r);
      return kube.request<T>(r);
    },
    watch: (path, query, onEvent, signal) => kube.watch(path, query, onEvent, signal),
  };
}
