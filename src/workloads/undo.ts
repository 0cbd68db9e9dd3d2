/**
 * The way back for one workload: `restart --undo NAMESPACE/KIND/NAME` puts a workload back on its
 * previous revision, as `kubectl rollout undo` does (kubectl's polymorphichelpers/rollback.go):
 * - a Deployment gets the pod template of its previous ReplicaSet (the highest revision below the
 *   current one), without the controller's pod-template-hash label; the controller then scales that
 *   ReplicaSet back up and the failed one down;
 * - a StatefulSet or DaemonSet gets its previous ControllerRevision's data, a strategic merge patch
 *   of its pod template.
 * Pods that the old revision still runs keep their old sidecar (with maxUnavailable 0, a restart
 * stopped by a quota or an admission refusal replaced none of them); a pod the controller creates
 * again is injected by the control plane running now.
 */
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import type { KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import type { WorkloadRef } from './owners.ts';
import { createRolloutWatcher } from './rollout-watch.ts';
import { describe, workloadRefs, type WaitResult } from './rollout-wait.ts';

interface Owned extends KubeObject {
  metadata?: KubeObject['metadata'] & {
    uid?: string;
    generation?: number;
    ownerReferences?: { uid?: string; controller?: boolean }[];
  };
}
interface DeploymentObj extends Owned {
  spec?: { paused?: boolean; template?: { metadata?: { labels?: Record<string, string> } } };
}
interface ReplicaSetObj extends Owned {
  spec?: { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } } };
}
interface RevisionObj extends Owned {
  revision?: number;
  data?: unknown;
}

const revisionOf = (o: Owned) => Number(o.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
const ownedBy = (o: Owned, owner: Owned) =>
  o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata?.uid) ?? false;

/** A template without the label the Deployment controller adds to each ReplicaSet's. */
function withoutHash<T extends ReplicaSetObj['spec']>(spec: T): NonNullable<T>['template'] {
  const t = structuredClone(spec?.template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels['pod-template-hash'];
  return t;
}

export interface UndoResult extends WorkloadRef {
  /** The revision it is back on. */
  toRevision: number;
  fromRevision: number;
  rollout: WaitResult;
}

async function undoDeployment(
  deps: Pick<Deps, 'kube'>,
  ref: WorkloadRef,
  d: DeploymentObj,
): Promise<{ patch: unknown; contentType: string; from: number; to: number }> {
  if (d.spec?.paused)
    throw new UsageError(
      `${describe(ref)} is paused`,
      `Resume it first: kubectl rollout resume deployment/${ref.name} -n ${ref.namespace}`,
    );
  const sets = (await listAll<ReplicaSetObj>(deps.kube, collectionPath(core.replicasets, ref.namespace))).filter((s) =>
    ownedBy(s, d),
  );
  const current = revisionOf(d);
  const previous = sets.filter((s) => revisionOf(s) < current).sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  if (!previous)
    throw new UsageError(
      `${describe(ref)} has no revision before ${current} to go back to`,
      `See its history: kubectl rollout history deployment/${ref.name} -n ${ref.namespace}`,
    );
  return {
    patch: [{ op: 'replace', path: '/spec/template', value: withoutHash(previous.spec) }],
    contentType: 'application/json-patch+json',
    from: current,
    to: revisionOf(previous),
  };
}

async function undoByControllerRevision(
  deps: Pick<Deps, 'kube'>,
  ref: WorkloadRef,
  o: Owned,
): Promise<{ patch: unknown; contentType: string; from: number; to: number }> {
  const history = (await listAll<RevisionObj>(deps.kube, collectionPath(core.controllerrevisions, ref.namespace)))
    .filter((r) => ownedBy(r, o))
    .sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
  const [current, previous] = history;
  if (!current || !previous)
    throw new UsageError(
      `${describe(ref)} has no revision before ${current?.revision ?? 0} to go back to`,
      `See its history: kubectl rollout history ${ref.kind.toLowerCase()}/${ref.name} -n ${ref.namespace}`,
    );
  return {
    patch: previous.data,
    contentType: 'application/strategic-merge-patch+json',
    from: current.revision ?? 0,
    to: previous.revision ?? 0,
  };
}

/** Puts one workload back on its previous revision and waits for that rollout. */
export async function undoWorkload(
  deps: Pick<Deps, 'kube' | 'clock'>,
  ref: WorkloadRef,
  opts: { timeoutMs: number; onMessage?: (m: string) => void },
): Promise<UndoResult> {
  const api = workloadRefs[ref.kind as keyof typeof workloadRefs];
  if (!api)
    throw new UsageError(
      `--undo takes a Deployment, StatefulSet or DaemonSet, not a ${ref.kind}`,
      'Name it as NAMESPACE/deployment/NAME (or statefulset, daemonset).',
    );
  const obj = await deps.kube.request<Owned>({ path: objectPath(api, ref.name, ref.namespace) });
  const how =
    ref.kind === 'Deployment' ? await undoDeployment(deps, ref, obj) : await undoByControllerRevision(deps, ref, obj);
  const patched = await deps.kube.request<Owned>({
    method: 'PATCH',
    path: objectPath(api, ref.name, ref.namespace),
    body: how.patch,
    contentType: how.contentType,
  });
  const watcher = createRolloutWatcher(deps);
  try {
    const rollout = await watcher.wait(ref, patched?.metadata?.generation ?? 0, {
      timeoutMs: opts.timeoutMs,
      onMessage: opts.onMessage,
    });
    return { ...ref, fromRevision: how.from, toRevision: how.to, rollout };
  } finally {
    watcher.close();
  }
}
