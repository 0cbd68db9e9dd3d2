/**
 * Waiting for a CRD to be Established and to serve a version, by watching it (never by
 * sleeping): list it by name to get a resourceVersion, then watch from there until the
 * Established condition is True. A watch the server closes, or a 410 Gone, starts over.
 */
import type { Deps } from '../deps.ts';
import type { KubeList, KubeObject } from '../kube/client.ts';
import { KubeApiError } from '../kube/client.ts';
import { collectionPath, core } from '../kube/paths.ts';

interface CrdLike extends KubeObject {
  spec?: { versions?: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Is the CRD Established, serving `version`, and not being deleted? Pure. */
export function crdReady(crd: CrdLike | undefined, version: string): boolean {
  if (!crd || crd.metadata?.deletionTimestamp) return false; // a terminating CRD stays Established but refuses creates
  const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  const served = crd.spec?.versions?.some((v) => v.name === version && v.served) ?? false;
  return established && served;
}

/** Resolves true when ready, false when the deadline (clock ms) passes first. */
export async function waitForCrdEstablished(deps: Deps, crdName: string, version: string, deadline: number, signal?: AbortSignal): Promise<boolean> {
  const path = collectionPath(core.crds);
  const fieldSelector = `metadata.name=${crdName}`;
  while (deps.clock.now() < deadline && !signal?.aborted) {
    let list: KubeList<CrdLike>;
    try {
      list = await deps.kube.request<KubeList<CrdLike>>({ path, query: { fieldSelector } });
    } catch (err) {
      deps.log.debug(`listing CRD ${crdName} failed: ${(err as Error).message}`);
      await deps.clock.sleep(Math.min(1000, Math.max(0, deadline - deps.clock.now())), signal).catch(() => undefined);
      continue;
    }
    if (crdReady(list.items[0], version)) return true;
    const remainingS = Math.max(1, Math.ceil((deadline - deps.clock.now()) / 1000));
    const ac = new AbortController();
    let ready = false;
    const timer = setTimeout(() => ac.abort(), remainingS * 1000 + 500);
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await deps.kube.watch<CrdLike>(path, { fieldSelector, resourceVersion: list.metadata?.resourceVersion, timeoutSeconds: Math.min(remainingS, 300) }, (e) => {
        if ((e.type === 'ADDED' || e.type === 'MODIFIED') && crdReady(e.object, version)) { ready = true; ac.abort(); }
      }, ac.signal);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 410)) deps.log.debug(`watching CRD ${crdName}: ${(err as Error).message}`);
      if (!ready) await deps.clock.sleep(200);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (ready) return true;
  }
  return false;
}
