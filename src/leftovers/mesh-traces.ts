/**
 * What the real `nginx-meshctl deploy` refuses to deploy over (pkg/k8s MeshExists in the vendor
 * source): a release of the nginx-service-mesh chart in ANY namespace, whatever its status, or any
 * mesh CRD (labelled app.kubernetes.io/part-of=nginx-service-mesh). A deploy into a namespace that
 * is still terminating fails too. Real `remove` deletes the CRDs and the namespace without waiting,
 * and skips both when its `helm uninstall` reported an error (a failed hook): the deploy step waits
 * for the first and finishes the second (finishRemoval), saying what it did.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { decodeReleaseSecret, meshChartName } from '../mesh/release.ts';
import { StepError } from '../errors.ts';
import { meshCrdSelector } from '../mesh/catalog.ts';
import { notYet, ready, waitFor } from '../wait.ts';
import { crdDeletionNudger, type DeletingCrd } from '../kube/crd-deletion.ts';

export interface MeshTraces {
  /** Mesh CRDs; `deleting` when their deletion has begun. */
  crds: { name: string; deleting: boolean }[];
  /** Releases of the mesh chart, any namespace: "ns/name (status)". */
  releases: string[];
  /** The mesh namespace when it is still terminating. */
  terminating: string | undefined;
}

/** Pure: one line per trace, for the progress line and the timeout error. */
export function describeTraces(t: MeshTraces): string[] {
  return [
    ...t.releases.map((r) => `Helm release ${r}`),
    ...t.crds.map((c) => `CRD ${c.name}${c.deleting ? ' (deleting)' : ''}`),
    ...(t.terminating ? [`namespace ${t.terminating} (terminating)`] : []),
  ];
}

/** Pure: the newest record of each mesh-chart release, per namespace, from Helm's release Secrets. */
export function meshReleasesEverywhere(secrets: readonly KubeObject[]): string[] {
  const newest = new Map<string, { rev: number; text: string }>();
  for (const s of secrets) {
    let r;
    try {
      r = decodeReleaseSecret(s);
    } catch {
      continue;
    }
    if (!r.chart.name.includes(meshChartName)) continue;
    const key = `${r.namespace}/${r.name}`;
    if ((newest.get(key)?.rev ?? -1) < r.revision) newest.set(key, { rev: r.revision, text: `${key} (${r.status})` });
  }
  return [...newest.values()].map((v) => v.text).sort();
}

/** What of a mesh is left; `nudge` (a waiter's) is shown the mesh CRDs first (kube/crd-deletion.ts). */
export async function findMeshTraces(
  deps: Pick<Deps, 'kube'>,
  namespace: string,
  nudge?: (crds: readonly DeletingCrd[]) => Promise<void>,
): Promise<MeshTraces> {
  const [crds, secrets, ns] = await Promise.all([
    listAll<DeletingCrd>(deps.kube, collectionPath(core.crds), { labelSelector: meshCrdSelector }),
    listAll(deps.kube, collectionPath(core.secrets), { labelSelector: 'owner=helm' }),
    deps.kube
      .request<KubeObject & { status?: { phase?: string } }>({ path: objectPath(core.namespaces, namespace) })
      .catch((err: unknown) => {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }),
  ]);
  await nudge?.(crds);
  return {
    crds: crds
      .map((c) => ({ name: c.metadata!.name!, deleting: Boolean(c.metadata?.deletionTimestamp) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    releases: meshReleasesEverywhere(secrets),
    terminating: ns?.status?.phase === 'Terminating' ? namespace : undefined,
  };
}

/** Waits until nothing of the old mesh is left that would make `deploy` refuse, showing what it waits for. */
export async function waitForNoMeshTrace(
  deps: Deps,
  opts: { namespace: string; timeoutMs: number; progress: (m: string) => void; signal?: AbortSignal },
): Promise<void> {
  let last = '';
  const nudge = crdDeletionNudger(deps, opts.progress);
  await waitFor(
    {
      clock: deps.clock,
      timeoutMs: opts.timeoutMs,
      intervalMs: 1000,
      signal: opts.signal,
      what: 'the old mesh to be gone',
      progress: (left) => {
        const line = `waiting for the old mesh to be gone before deploy: ${left}`;
        if (line !== last) opts.progress(line); // shown when what is left changes
        last = line;
      },
      timeoutError: (left) =>
        new StepError(
          'deploy',
          `the old mesh is not gone after ${Math.round(opts.timeoutMs / 1000)}s: ${left}`,
          'nginx-meshctl deploy refuses while any of these exist: find what holds them (finalizers, a stuck helm uninstall), remove them, then resume.',
        ),
    },
    async () => {
      const left = describeTraces(await findMeshTraces(deps, opts.namespace, nudge));
      return left.length === 0 ? ready(undefined) : notYet(left.join(', '));
    },
  );
}

/**
 * After a remove: deletes the mesh CRDs and the mesh namespace that the remove left in place
 * (not being deleted), as real `remove` does when its uninstall succeeds. On OpenShift the
 * namespace is kept: the CSI sentinel Job runs there. Returns one line per thing it deleted.
 */
export async function finishRemoval(
  deps: Pick<Deps, 'kube'>,
  opts: { namespace: string; keepNamespace: boolean },
): Promise<string[]> {
  const t = await findMeshTraces(deps, opts.namespace);
  // A release anywhere: ours was not removed to the end, or the CRDs serve another mesh. Leave them.
  if (t.releases.length > 0) return [];
  const done: string[] = [];
  const del = async (path: string, what: string) => {
    try {
      await deps.kube.request({ method: 'DELETE', path });
      done.push(what);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  };
  for (const c of t.crds.filter((x) => !x.deleting)) await del(objectPath(core.crds, c.name), `CRD ${c.name}`);
  if (!opts.keepNamespace && !t.terminating) {
    const ns = await deps.kube
      .request<KubeObject>({ path: objectPath(core.namespaces, opts.namespace) })
      .catch(() => undefined);
    if (ns && !ns.metadata?.deletionTimestamp)
      await del(objectPath(core.namespaces, opts.namespace), `namespace ${opts.namespace}`);
  }
  return done;
}
