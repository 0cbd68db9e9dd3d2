import type { Deps } from '../deps.ts';
import { detectInstall, findMeshReleases, type Install } from './detect.ts';
import { StepError, UsageError } from '../errors.ts';
import { core, objectPath } from '../kube/paths.ts';
import { KubeApiError } from '../kube/client.ts';
import { isStuckStatus } from './release.ts';
import { notYet, ready, waitFor } from '../wait.ts';

/**
 * What is installed right now, or undefined when no mesh is found. Steps use it to stay
 * idempotent on --resume: an upgrade already on its target, a remove already done, a deploy
 * already running the target version are each recognised and not repeated.
 */
export async function installedNow(
  deps: Deps,
  meshNamespace: string,
  release: string | undefined,
): Promise<Install | undefined> {
  try {
    return await detectInstall(deps, { meshNamespace, release });
  } catch (err) {
    if (err instanceof UsageError) return undefined;
    throw err;
  }
}

/**
 * Waits while the mesh's Helm release is in a transitional state (pending-*, uninstalling): after a
 * killed run, the helm or nginx-meshctl process it started may still be running, and a second
 * helm command on the same release would fail or race it. Gives up with the release named.
 */
export async function waitForHelmIdle(
  deps: Deps,
  namespace: string,
  release: string | undefined,
  timeoutMs: number,
  progress: (m: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  await waitFor(
    {
      clock: deps.clock,
      timeoutMs,
      intervalMs: 2000,
      signal,
      what: `the Helm release in namespace ${namespace} to be idle`,
      progress: (busy) =>
        progress(`waiting: Helm release ${busy} (a helm process of an interrupted run may still be working)`),
      timeoutError: (busy) =>
        new StepError(
          'helm-busy',
          `Helm release ${busy} for longer than the timeout`,
          `If no helm or nginx-meshctl process is still running, repair the release (helm rollback, or helm uninstall for an uninstalling one), then resume.`,
        ),
    },
    async () => {
      // A release list that cannot be read is a failed step, never "no release busy".
      let releases;
      try {
        releases = await findMeshReleases(deps, namespace, []);
      } catch (err) {
        throw new StepError(
          'helm-busy',
          `cannot read the Helm releases in namespace ${namespace}: ${(err as Error).message}`,
          'Check the connection to the cluster and the permission to list Secrets there, then resume.',
        );
      }
      const busy = releases.filter((r) => (!release || r.name === release) && isStuckStatus(r.status));
      return busy.length === 0
        ? ready(undefined)
        : notYet(busy.map((r) => `${r.name} (revision ${r.revision}) is ${r.status}`).join(', '));
    },
  );
}

/**
 * Waits until the mesh namespace is not Terminating: `nginx-meshctl remove` deletes it and returns
 * before the deletion finishes, and a deploy into a terminating namespace is refused.
 */
export async function waitForNamespaceSettled(
  deps: Deps,
  namespace: string,
  timeoutMs: number,
  progress: (m: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  await waitFor(
    {
      clock: deps.clock,
      timeoutMs,
      intervalMs: 1000,
      signal,
      what: `namespace ${namespace} to finish terminating`,
      progress: () => progress(`waiting for namespace ${namespace} to finish terminating`),
      timeoutError: () =>
        new StepError(
          'deploy',
          `namespace ${namespace} is still terminating after ${Math.round(timeoutMs / 1000)}s`,
          `Check what holds it (kubectl get namespace ${namespace} -o yaml: finalizers, conditions), then resume.`,
        ),
    },
    async () => {
      let phase: string | undefined;
      try {
        phase = (
          await deps.kube.request<{ status?: { phase?: string } }>({ path: objectPath(core.namespaces, namespace) })
        ).status?.phase;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return ready(undefined);
        throw err;
      }
      return phase === 'Terminating' ? notYet(phase) : ready(undefined);
    },
  );
}
