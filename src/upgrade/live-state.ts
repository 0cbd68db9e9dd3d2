import type { Deps } from '../deps.ts';
import { detectInstall, type Install } from '../mesh/detect.ts';
import { StepError, UsageError } from '../errors.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core } from '../kube/paths.ts';
import { decodeReleaseSecret, isStuckStatus, newestMeshReleases } from '../mesh/release.ts';

/**
 * What is installed right now, or undefined when no mesh is found. Steps use it to stay
 * idempotent on --resume: an upgrade already on its target, a remove already done, a deploy
 * already running the target version are each recognised and not repeated.
 */
export async function installedNow(deps: Deps, meshNamespace: string, release: string | undefined): Promise<Install | undefined> {
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
export async function waitForHelmIdle(deps: Deps, namespace: string, release: string | undefined, timeoutMs: number, progress: (m: string) => void): Promise<void> {
  const deadline = deps.clock.now() + timeoutMs;
  for (;;) {
    const secrets = await listAll(deps.kube, collectionPath(core.secrets, namespace), { labelSelector: release ? `owner=helm,name=${release}` : 'owner=helm' }).catch(() => []);
    const busy = newestMeshReleases(secrets.flatMap((s) => { try { return [decodeReleaseSecret(s)]; } catch { return []; } })).filter((r) => isStuckStatus(r.status));
    if (busy.length === 0) return;
    const what = busy.map((r) => `${r.name} (revision ${r.revision}) is ${r.status}`).join(', ');
    if (deps.clock.now() > deadline) {
      throw new StepError('helm-busy', `Helm release ${what} for longer than the timeout`, `If no helm or nginx-meshctl process is still running, repair the release (helm rollback, or helm uninstall for an uninstalling one), then resume.`);
    }
    progress(`waiting: Helm release ${what} (a helm process of an interrupted run may still be working)`);
    await deps.clock.sleep(2000);
  }
}
