/**
 * The cluster is shared: another test file may be deleting the mesh CRDs (a manual-path upgrade,
 * a restore onto a cluster without CRDs) when ours starts. Before seeding, wait until no catalog
 * CRD is terminating, then make sure they exist and are established (ensureCatalogCrds).
 */
import type { Kube, KubeObject } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { core, objectPath } from '../../src/kube/paths.ts';
import { catalog, resourceName } from '../../src/mesh/catalog.ts';
import { ensureCatalogCrds } from '../fixtures/backups/cluster.ts';
import { settled } from './wait.ts';

async function terminating(kube: Kube): Promise<string[]> {
  const out: string[] = [];
  for (const k of catalog) {
    try {
      const crd = await kube.request<KubeObject>({ path: objectPath(core.crds, resourceName(k)) });
      if (crd.metadata?.deletionTimestamp) out.push(resourceName(k));
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }
  return out;
}

/**
 * Waits (up to `timeoutMs`) for terminating catalog CRDs to go, then creates the missing ones. On a
 * long-lived test cluster the API server's CRD finalizer can fail with "storage is (re)initializing"
 * and retry with a growing backoff (about 3 minutes seen): the default covers two such retries.
 */
export async function catalogCrdsReady(kube: Kube, timeoutMs = 420_000): Promise<void> {
  if (!(await settled(async () => (await terminating(kube)).length === 0, { timeoutMs }))) {
    throw new Error(
      `catalog CRDs still terminating after ${timeoutMs / 1000}s (another test deleting them?): ${(await terminating(kube)).join(', ')}`,
    );
  }
  await ensureCatalogCrds(kube);
}
