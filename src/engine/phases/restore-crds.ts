/**
 * Putting the mesh CRDs back exactly as a backup's crds.yaml holds them: the missing ones created,
 * the ones with another spec replaced (their old served and storage versions), the ones the backup
 * does not have (added by the newer version, e.g. 2.0's MeshConfig CRDs) deleted; then waits until
 * every backed-up CRD is Established and serving its versions, and the deleted ones are gone.
 * The objects of a deleted CRD go with it: the plan refused when any could not come back.
 */
import type { Deps } from '../../deps.ts';
import { KubeApiError, type KubeObject } from '../../kube/client.ts';
import { listAll } from '../../kube/list.ts';
import { collectionPath, core, objectPath } from '../../kube/paths.ts';
import { jsonEqual } from '../../backup/sanitize.ts';
import { crdNotReady, waitForCrd } from '../../backup/crd-wait.ts';
import { StepError } from '../../errors.ts';
import { notYet, ready, waitFor } from '../../wait.ts';
import { crdDeletionNudger } from '../../kube/crd-deletion.ts';
import type { CrdLike } from './compat.ts';

export interface PutCrdsOptions {
  crds: readonly CrdLike[];
  labelSelector: string;
  timeoutMs: number;
  progress: (m: string) => void;
  signal?: AbortSignal | undefined;
}

const nameOf = (c: KubeObject) => c.metadata?.name ?? '';
const servedVersions = (c: CrdLike) => (c.spec?.versions ?? []).filter((v) => v.served).map((v) => v.name);

export async function putCrdsBack(deps: Deps, opts: PutCrdsOptions): Promise<string[]> {
  const deadline = deps.clock.now() + opts.timeoutMs;
  const seconds = Math.round(opts.timeoutMs / 1000);
  const list = () => listAll<CrdLike>(deps.kube, collectionPath(core.crds), { labelSelector: opts.labelSelector });
  const wanted = new Map(opts.crds.map((c) => [nameOf(c), c]));
  const done: string[] = [];
  const nudge = crdDeletionNudger(deps, opts.progress);
  // A CRD being deleted (a removal's) must be gone before it can be created again.
  await waitFor(
    {
      clock: deps.clock,
      deadline,
      intervalMs: 500,
      signal: opts.signal,
      what: 'the CRDs being deleted to be gone',
      progress: (deleting) => opts.progress(`waiting for CRD(s) being deleted: ${deleting}`),
      timeoutError: (deleting) =>
        new StepError('restore-crds', `CRDs still being deleted after ${seconds}s: ${deleting}`),
    },
    async () => {
      const deleting = (await list()).filter((c) => wanted.has(nameOf(c)) && c.metadata?.deletionTimestamp);
      await nudge(deleting);
      return deleting.length === 0 ? ready(undefined) : notYet(deleting.map(nameOf).join(', '));
    },
  );
  const live = new Map((await list()).map((c) => [nameOf(c), c]));
  for (const [name, crd] of wanted) {
    const l = live.get(name);
    const body = { ...crd, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' };
    if (!l) {
      await deps.kube.request({ method: 'POST', path: collectionPath(core.crds), body });
      done.push(`created CRD ${name}`);
    } else if (!jsonEqual(l.spec, crd.spec)) {
      try {
        await deps.kube.request({
          method: 'PUT',
          path: objectPath(core.crds, name),
          body: { ...body, metadata: { ...crd.metadata, resourceVersion: l.metadata?.resourceVersion } },
        });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 422) {
          throw new StepError(
            'restore-crds',
            `CRD ${name} cannot be put back as backed up: ${err.message}`,
            'The API server keeps versions that objects were stored in (status.storedVersions); migrate those objects, then resume.',
          );
        }
        throw err;
      }
      done.push(`put back CRD ${name}`);
    }
  }
  for (const [name] of live) {
    if (wanted.has(name)) continue;
    try {
      await deps.kube.request({ method: 'DELETE', path: objectPath(core.crds, name) });
      done.push(`deleted CRD ${name} (not in the backup)`);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }
  // Then each backed-up CRD Established and serving its versions (one deadline for all), and the others gone.
  const notAsBackedUp = async () => {
    const now = new Map((await list()).map((c) => [nameOf(c), c]));
    await nudge([...now.values()].filter((c) => !wanted.has(nameOf(c))));
    return [
      ...[...wanted.values()]
        .filter((c) => crdNotReady(now.get(nameOf(c)), servedVersions(c)))
        .map((c) => `${nameOf(c)} (not Established)`),
      ...[...now.keys()].filter((n) => !wanted.has(n)).map((n) => `${n} (being deleted)`),
    ];
  };
  for (const crd of wanted.values()) {
    const name = nameOf(crd);
    await waitForCrd(
      deps,
      { name, versions: servedVersions(crd) },
      {
        deadline,
        signal: opts.signal,
        progress: opts.progress,
        timeoutError: (why) =>
          new StepError('restore-crds', `the CRDs are not as backed up after ${seconds}s: ${name} (${why})`),
      },
    );
  }
  await waitFor(
    {
      clock: deps.clock,
      deadline,
      intervalMs: 250,
      signal: opts.signal,
      what: 'the CRDs not in the backup to be gone',
      progress: (waiting) => opts.progress(`waiting for CRDs: ${waiting.join(', ')}`),
      timeoutError: (waiting) =>
        new StepError('restore-crds', `the CRDs are not as backed up after ${seconds}s: ${waiting.join(', ')}`),
    },
    async () => {
      const waiting = await notAsBackedUp();
      return waiting.length === 0 ? ready(undefined) : notYet(waiting);
    },
  );
  return done;
}
