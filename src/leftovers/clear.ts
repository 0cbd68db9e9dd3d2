/**
 * Clears leftovers (leftovers.ts) through the API, in the order classifyLeftovers lists them:
 * webhooks whose service is gone, unavailable APIServices, sentinel Jobs, SPIRE volumes, and last
 * the stuck namespaces. Only what is provably the mesh's: a leftover marked `foreign` is never
 * cleared (an unlabelled CRD is never labelled: the caller refuses it). Each delete carries the
 * uid the scan saw as a precondition, so an object replaced since is not deleted. A stuck
 * namespace loses only the mesh's own finalizers of the objects holding it (a JSON patch that
 * first tests the object's uid and finalizers), then the namespace controller is nudged (it backs
 * off after repeated discovery failures) and the tool waits until it is gone. Each action is one
 * line of the returned list (journaled by the step).
 */
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, objectPath } from '../kube/paths.ts';
import { StepError } from '../errors.ts';
import { formatCommand } from '../exec/runner.ts';
import { leftoverRefs } from './scan.ts';
import type { Leftover } from './types.ts';
import { meshFinalizersOf, stuckReason } from './namespaces.ts';
import { notYet, ready, waitFor } from '../wait.ts';

const gone = (err: unknown) => err instanceof KubeApiError && err.status === 404;
const step = 'clean-leftovers';

/** Deletes exactly the object of uid `uid` (a 409 means another object took the name: refused). */
async function del(deps: Pick<Deps, 'kube'>, path: string, l: Leftover, propagationPolicy?: string): Promise<boolean> {
  const body = {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    ...(l.uid ? { preconditions: { uid: l.uid } } : {}),
    ...(propagationPolicy ? { propagationPolicy } : {}),
  };
  try {
    await deps.kube.request({ method: 'DELETE', path, body });
    return true;
  } catch (err) {
    if (gone(err)) return false;
    if (err instanceof KubeApiError && err.status === 409)
      throw new StepError(
        step,
        `${l.what} is no longer the object the scan found (uid ${l.uid}): not deleted`,
        'Look at it again (the plan lists it), then run again.',
      );
    throw err;
  }
}

async function waitNamespaceGone(
  deps: Deps,
  name: string,
  timeoutMs: number,
  progress: (m: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  let checks = 0;
  await waitFor(
    {
      clock: deps.clock,
      timeoutMs,
      intervalMs: 1000,
      signal,
      what: `namespace ${name} to be deleted`,
      progress: (why) => progress(`waiting for namespace ${name} to be deleted (${why})`),
      timeoutError: (why) =>
        new StepError(
          step,
          `namespace ${name} is still terminating after ${Math.round(timeoutMs / 1000)}s: ${why}`,
          `See what holds it: kubectl get namespace ${name} -o yaml (status.conditions); clear that, then resume.`,
        ),
    },
    async () => {
      let ns: { status?: { conditions?: { type: string; status: string; message?: string }[] } };
      try {
        ns = await deps.kube.request({ path: objectPath(core.namespaces, name) });
      } catch (err) {
        if (gone(err)) return ready(undefined);
        throw err;
      }
      // The namespace controller retries a failed deletion with a growing back-off; an update to the namespace requeues it now.
      if (checks++ % 10 === 0)
        await deps.kube
          .request({
            method: 'PATCH',
            path: objectPath(core.namespaces, name),
            body: {
              metadata: {
                annotations: { 'nsm-upgrade.nginx.com/leftover-cleared': new Date(deps.clock.now()).toISOString() },
              },
            },
          })
          .catch(() => undefined);
      return notYet(stuckReason(ns) ?? 'deleting its content');
    },
  );
}

/** Removes the mesh's own finalizers of the objects holding a stuck namespace, nothing else. */
async function stripMeshFinalizers(deps: Pick<Deps, 'kube'>, l: Leftover, note: (line: string) => void): Promise<void> {
  for (const h of l.holders ?? []) {
    const { strip, keep } = meshFinalizersOf(h);
    if (strip.length === 0) continue;
    // The patch applies only while the object is the one scanned with the same finalizers: otherwise the API refuses it.
    const patch = [
      ...(h.uid ? [{ op: 'test', path: '/metadata/uid', value: h.uid }] : []),
      { op: 'test', path: '/metadata/finalizers', value: h.finalizers },
      { op: 'replace', path: '/metadata/finalizers', value: keep },
    ];
    try {
      await deps.kube.request({
        method: 'PATCH',
        path: h.path,
        contentType: 'application/json-patch+json',
        body: patch,
      });
      note(
        `removed finalizer ${strip.join(', ')} of ${h.resource}/${h.name} in ${l.name}${keep.length ? ` (kept ${keep.join(', ')})` : ''}`,
      );
    } catch (err) {
      if (gone(err)) continue;
      if (err instanceof KubeApiError && (err.status === 422 || err.status === 409)) {
        throw new StepError(
          step,
          `${h.resource}/${h.name} in ${l.name} changed since the scan (its finalizers or uid): not patched`,
          'Run again: the scan looks at it again.',
        );
      }
      throw err;
    }
  }
}

/** Clears each leftover; returns one line per thing done. */
export async function clearLeftovers(
  deps: Deps,
  leftovers: readonly Leftover[],
  opts: { timeoutMs: number; progress: (m: string) => void; signal?: AbortSignal },
): Promise<string[]> {
  const foreign = leftovers.filter((l) => l.foreign);
  if (foreign.length)
    throw new StepError(
      step,
      `not the mesh's to clear, so nothing was cleared:\n${leftoverList(foreign)}`,
      'Deal with each as it says, then resume.',
    );
  const done: string[] = [];
  const note = (line: string) => {
    done.push(line);
    opts.progress(line);
  };
  for (const l of leftovers) {
    switch (l.kind) {
      case 'webhook':
        if (await del(deps, objectPath(leftoverRefs[l.resource ?? 'mutatingwebhookconfigurations'], l.name), l))
          note(`deleted ${l.what}`);
        break;
      case 'apiservice':
        if (await del(deps, objectPath(leftoverRefs.apiservices, l.name), l)) note(`deleted APIService ${l.name}`);
        break;
      case 'sentinel-job':
        // Background propagation: its pod goes too (a bare DELETE of a Job orphans its pods).
        if (await del(deps, objectPath(core.jobs, l.name, l.namespace), l, 'Background')) note(`deleted ${l.what}`);
        break;
      case 'spire-pvc':
        if (await del(deps, objectPath(leftoverRefs.pvcs, l.name, l.namespace), l))
          note(`deleted PersistentVolumeClaim ${l.namespace}/${l.name}`);
        break;
      case 'crd-unlabelled':
        break; // always foreign: refused above
      case 'terminating-namespace':
        await stripMeshFinalizers(deps, l, note);
        await waitNamespaceGone(deps, l.name, opts.timeoutMs, opts.progress, opts.signal);
        note(`namespace ${l.name} is gone`);
        break;
    }
  }
  return done;
}

/** The refusal text for leftovers a step found but may not clear: each, what it breaks, why not (when foreign), and its command. */
export function leftoverList(leftovers: readonly Leftover[]): string {
  return leftovers
    .map(
      (l) =>
        `  - ${l.what}: ${l.breaks}${l.foreign ? `\n    the tool will not clear it: ${l.foreign}` : ''}\n    ${l.foreign ? 'by hand' : 'clear it'}: ${formatCommand(l.clear)}`,
    )
    .join('\n');
}
