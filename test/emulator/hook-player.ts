import { loadAll } from 'js-yaml';
import type { Kube, KubeObject } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { collectionPath, objectPath } from '../../src/kube/paths.ts';
import { statusAnnotation } from './inject.ts';
import { keyOf, startInformer } from './informer.ts';
import {
  kubectlKinds,
  manifestKinds,
  parseDeletions,
  fallbackDeletions,
  planCleanup,
  playedJobs,
  scriptOf,
  succeededStatusPatch,
  type Deletion,
} from './hook-scripts.ts';

/**
 * Plays the two OpenShift hook Jobs KWOK leaves running: csi-driver-cleanup (hand over to the
 * sentinel while injected pods remain, else delete the CSI pieces) and csi-driver-sentinel
 * (wait until no injected pod is left in the cluster, delete the CSI pieces). Each finishes by
 * marking its pod Succeeded, so the Job completes (and the sentinel's TTL deletes it).
 */
export interface HookPlayerOptions {
  kube: Kube;
  signal: AbortSignal;
  log: (line: string) => void;
  inScope: (namespace: string) => boolean;
  /** Only the active emulator plays hook Jobs (see leader.ts). */
  isLeader: () => boolean;
}

interface Pod extends KubeObject {
  metadata?: KubeObject['metadata'] & { uid?: string; deletionTimestamp?: string };
  spec?: {
    containers?: { name?: string; image?: string; command?: string[]; args?: string[] }[];
    volumes?: { configMap?: { name?: string } }[];
  };
  status?: { phase?: string };
}

export function startHookPlayer(o: HookPlayerOptions): { synced: Promise<void>; injectedPods(): number; tick(): void } {
  const handled = new Set<string>();
  // Kept incrementally (a busy cluster has thousands of pods): injected pod keys, and the played Jobs' pods.
  const injected = new Set<string>();
  const jobPods = new Map<string, Pod>();
  const onChange = (type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod) => {
    const key = keyOf(pod);
    const job = pod.metadata?.labels?.['job-name'];
    if (type !== 'DELETED' && pod.metadata?.annotations?.[statusAnnotation] === 'injected') injected.add(key);
    else injected.delete(key);
    if (type !== 'DELETED' && (job === playedJobs.cleanup || job === playedJobs.sentinel)) jobPods.set(key, pod);
    else jobPods.delete(key);
    if (jobPods.size) tick();
  };
  const pods = startInformer<Pod>({ kube: o.kube, path: '/api/v1/pods', signal: o.signal, log: o.log, onChange });
  const injectedPods = () => injected.size;

  function tick(): void {
    if (!o.isLeader()) return;
    for (const pod of jobPods.values()) {
      const job = pod.metadata?.labels?.['job-name'];
      const uid = pod.metadata?.uid ?? '';
      if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp || handled.has(uid)) continue;
      if (!o.inScope(pod.metadata?.namespace ?? '')) continue;
      if (job === playedJobs.sentinel && injectedPods() > 0) continue;
      handled.add(uid);
      const run = job === playedJobs.cleanup ? runCleanup(pod) : runSentinel(pod);
      run.catch((err: Error) => {
        o.log(`error: ${job} pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${err.message}; retrying`);
        setTimeout(() => {
          handled.delete(uid);
          if (!o.signal.aborted) tick();
        }, 2000);
      });
    }
  }

  async function ignoreMissing(p: Promise<unknown>, also: number[] = []): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!(err instanceof KubeApiError && [404, ...also].includes(err.status))) throw err;
    }
  }

  async function deleteAll(namespace: string, deletions: Deletion[]): Promise<void> {
    for (const d of deletions) {
      const ref = kubectlKinds[d.kind]!;
      // 404 is --ignore-not-found; a missing API (e.g. no SCC CRD) is the same to a script's `kubectl delete`.
      await ignoreMissing(
        o.kube.request({
          method: 'DELETE',
          path: objectPath(ref, d.name, namespace),
          query: { propagationPolicy: 'Background' },
        }),
      );
    }
    o.log(`deleted CSI pieces in ${namespace}: ${deletions.map((d) => `${d.kind}/${d.name}`).join(', ')}`);
  }

  async function complete(pod: Pod): Promise<void> {
    await o.kube.request({
      method: 'PATCH',
      path: `${objectPath({ group: '', version: 'v1', plural: 'pods', namespaced: true }, pod.metadata!.name!, pod.metadata!.namespace)}/status`,
      contentType: 'application/strategic-merge-patch+json',
      body: succeededStatusPatch(pod, new Date()),
    });
  }

  async function createSentinel(pod: Pod, namespace: string): Promise<void> {
    const cmName = pod.spec?.volumes?.find((v) => v.configMap?.name)?.configMap?.name ?? playedJobs.cleanup;
    const cm = await o.kube.request<{ data?: Record<string, string> }>({
      path: objectPath({ group: '', version: 'v1', plural: 'configmaps', namespaced: true }, cmName, namespace),
    });
    for (const key of ['secret.yaml', 'sentinel.yaml']) {
      for (const doc of loadAll(cm.data?.[key] ?? '')) {
        const obj = doc as KubeObject | null;
        const ref = obj?.kind ? manifestKinds[obj.kind] : undefined;
        if (!obj || !ref) continue;
        await ignoreMissing(o.kube.request({ method: 'POST', path: collectionPath(ref, namespace), body: obj }), [409]);
      }
    }
    o.log(`created ${playedJobs.sentinel} in ${namespace} from ConfigMap ${cmName}`);
  }

  async function stripSpireAgent(namespace: string): Promise<void> {
    const path = objectPath(kubectlKinds.daemonset!, 'spire-agent', namespace);
    let ds: {
      spec?: { template?: { spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] } } };
    };
    try {
      ds = await o.kube.request({ path });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return;
      throw err;
    }
    const spec = ds.spec?.template?.spec ?? {};
    const ops: { op: string; path: string }[] = [];
    const ci = (spec.containers ?? []).findIndex((c) => c.name === 'spire-agent');
    if (ci >= 0) ops.push({ op: 'remove', path: `/spec/template/spec/containers/${ci}` });
    const ii = (spec.initContainers ?? []).findIndex((c) => c.name === 'init');
    if (ii >= 0) ops.push({ op: 'remove', path: `/spec/template/spec/initContainers/${ii}` });
    // A pod template needs one container: the real patch would be refused too, and the script goes on.
    if (!ops.length) return;
    await ignoreMissing(
      o.kube.request({ method: 'PATCH', path, contentType: 'application/json-patch+json', body: ops }),
      [422],
    );
    o.log(
      `removed the spire-agent container and init container from DaemonSet ${namespace}/spire-agent (the CSI driver keeps running)`,
    );
  }

  async function runCleanup(pod: Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const injected = injectedPods();
    const plan = planCleanup(injected, scriptOf(pod));
    if (plan.action === 'create-sentinel') {
      o.log(
        `${playedJobs.cleanup} in ${ns}: ${injected} injected pod(s) remain, handing over to ${playedJobs.sentinel}`,
      );
      if (plan.stripSpireAgent) await stripSpireAgent(ns);
      await createSentinel(pod, ns);
    } else {
      await deleteAll(ns, plan.deletions);
    }
    await complete(pod);
    o.log(`${playedJobs.cleanup} pod ${ns}/${pod.metadata?.name} succeeded`);
  }

  async function runSentinel(pod: Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const deletions = parseDeletions(scriptOf(pod));
    await deleteAll(ns, deletions.length ? deletions : fallbackDeletions);
    await complete(pod);
    o.log(`sentinel released: no injected pod left, ${playedJobs.sentinel} pod ${ns}/${pod.metadata?.name} succeeded`);
  }

  return { synced: pods.synced, injectedPods, tick };
}
