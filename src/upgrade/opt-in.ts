/**
 * NSM 2.0 makes sidecar injection opt-in: namespaces whose workloads are injected today need
 * injector.nsm.nginx.com/auto-inject=enabled before the hop to 2.0. This finds the ones that
 * lack it (the planner warns, and --label-namespaces labels them).
 */
import type { Deps } from '../deps.ts';
import { autoInjectLabel } from '../mesh/version-notes.ts';
import { listInjectedPods, namespaceLabels } from '../workloads/discover.ts';
import { isLive, podOptedIn, type PodLike } from '../workloads/injection.ts';

/** Pure: namespaces with live injected pods that neither the namespace nor the pod opted in. Sorted. */
export function unlabelledInjectedNamespaces(pods: readonly PodLike[], labels: ReadonlyMap<string, Record<string, string> | undefined>): string[] {
  const out = new Set<string>();
  for (const pod of pods) {
    const ns = pod.metadata?.namespace;
    if (!ns || !isLive(pod) || podOptedIn(pod)) continue;
    if (labels.get(ns)?.[autoInjectLabel.key] !== autoInjectLabel.enabled) out.add(ns);
  }
  return [...out].sort();
}

/** Reads the cluster (one pod list, one namespace list). */
export async function findUnlabelledInjectedNamespaces(deps: Pick<Deps, 'kube'>): Promise<string[]> {
  const [pods, labels] = await Promise.all([listInjectedPods(deps), namespaceLabels(deps)]);
  return unlabelledInjectedNamespaces(pods, labels);
}
