/**
 * Discovery of injected workloads: one paginated pod list filtered by the injector's label, then
 * one list per intermediate kind (ReplicaSets, Jobs) only when some pod is owned by one, to
 * resolve owners without a request per pod.
 */
import type { Deps } from '../deps.ts';
import type { KubeObject } from '../kube/client.ts';
import { listAll, listPages } from '../kube/list.ts';
import { collectionPath, core, type ResourceRef } from '../kube/paths.ts';
import { injectedPodSelector, isInjected, type PodLike } from './injection.ts';
import {
  groupFacts,
  neededIntermediates,
  ownerIndex,
  podFacts,
  type InjectedWorkload,
  type OwnerIndex,
  type PodFacts,
} from './owners.ts';

/**
 * Pages of 250 pods (about 0.75 MB of JSON each): over 50,000 pods, pages of 1000 left ~100 MB more
 * of short-lived garbage at the peak, and were no faster (the next page is fetched while one is read).
 */
const podPageSize = 250;

const intermediateRefs: Record<string, ResourceRef> = {
  ReplicaSet: core.replicasets,
  Job: core.jobs,
};

/** Only what the skew report reads of a pod, so a page's full objects can be freed at once. */
export function slimPod(p: PodLike): PodLike {
  const m = p.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      labels: m.labels,
      annotations: m.annotations,
      ownerReferences: m.ownerReferences,
      deletionTimestamp: m.deletionTimestamp,
    },
    spec: { containers: (p.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image })) },
    status: { phase: p.status?.phase },
  };
}

/** Lists the pods the injector mutated (label selector on the server, annotation checked here). */
export async function listInjectedPods(deps: Pick<Deps, 'kube'>, namespace?: string): Promise<PodLike[]> {
  const pods: PodLike[] = [];
  for await (const page of listPages<PodLike>(deps.kube, collectionPath(core.pods, namespace), {
    labelSelector: injectedPodSelector,
    limit: podPageSize,
  })) {
    for (const p of page) if (isInjected(p)) pods.push(slimPod(p));
  }
  return pods;
}

export interface Discovery {
  workloads: InjectedWorkload[];
}

/**
 * Injected pods grouped by the Deployment/StatefulSet/DaemonSet/Job/CronJob/bare pod that owns them.
 * Each page of pods is reduced to the facts the grouping needs as it arrives, and each page of
 * ReplicaSets/Jobs to its owner index entries: memory holds one page and the facts, never the
 * objects (status over 50,000 pods).
 */
export async function discoverInjectedWorkloads(deps: Pick<Deps, 'kube'>, namespace?: string): Promise<Discovery> {
  const facts: PodFacts[] = [];
  for await (const page of listPages<PodLike>(deps.kube, collectionPath(core.pods, namespace), {
    labelSelector: injectedPodSelector,
    limit: podPageSize,
  })) {
    for (const p of page) {
      const f = podFacts(p);
      if (f) facts.push(f);
    }
  }
  const index: OwnerIndex = new Map();
  await Promise.all(
    [...neededIntermediates(facts)].map(async (k) => {
      for await (const page of listPages<KubeObject>(deps.kube, collectionPath(intermediateRefs[k]!, namespace), {
        limit: podPageSize,
      })) {
        for (const [key, owner] of ownerIndex(page)) index.set(key, owner);
      }
    }),
  );
  return { workloads: groupFacts(facts, index) };
}

/** Labels of every namespace (one list): the 2.0 opt-in check reads them. */
export async function namespaceLabels(
  deps: Pick<Deps, 'kube'>,
): Promise<Map<string, Record<string, string> | undefined>> {
  const all = await listAll<KubeObject>(deps.kube, collectionPath(core.namespaces));
  return new Map(all.map((n) => [n.metadata?.name ?? '', n.metadata?.labels]));
}
