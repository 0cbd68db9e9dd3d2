import os from 'node:os';
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, collectionPath, objectPath } from '../kube/paths.ts';
import { PreflightError } from '../errors.ts';

/**
 * One run at a time per mesh: a coordination.k8s.io Lease named `nsm-upgrade.<mesh namespace>`.
 * It lives in `default`, not in the mesh namespace, because the manual path deletes the mesh
 * namespace mid-run. A second run is refused while the lease is held and fresh; a lease whose
 * holder stopped renewing (a killed run) can be taken over with --resume.
 */
export const leaseNamespace = 'default';
export const leaseDurationSeconds = 60;

interface LeaseObject {
  metadata: { name: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string };
}

export function leaseName(meshNamespace: string): string {
  return `nsm-upgrade.${meshNamespace}`;
}

export function isLeaseFresh(lease: LeaseObject, nowMs: number): boolean {
  const renew = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '');
  if (!Number.isFinite(renew)) return false;
  return nowMs < renew + (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
}

export interface HeldLease { release(): Promise<void> }

const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The holder is a process on this host that no longer runs (killed): its lease can be taken over at once. */
export function holderIsDeadHere(holder: string | undefined, host = os.hostname(), alive = pidAlive): boolean {
  const m = /^(.*)\/pid-(\d+)\/[^/]+$/.exec(holder ?? '');
  return m !== null && m[1] === host && !alive(Number(m[2]));
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Takes the lease. `resumeRunId` is the run being resumed: its lease may be taken over when it is
 * stale, or at once when its holder was a process on this machine that is gone.
 */
export async function acquireLease(deps: Deps, opts: { meshNamespace: string; runId: string; resumeRunId?: string | undefined }): Promise<HeldLease> {
  const ref = core.leases;
  const name = leaseName(opts.meshNamespace);
  const holder = `${os.hostname()}/pid-${process.pid}/${opts.runId}`;
  const now = deps.clock.now();
  const spec = { holderIdentity: holder, leaseDurationSeconds, acquireTime: micro(now), renewTime: micro(now) };
  try {
    await deps.kube.request({ method: 'POST', path: collectionPath(ref, leaseNamespace), body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec } });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    const live = await deps.kube.request<LeaseObject>({ path: objectPath(ref, name, leaseNamespace) });
    const resumable = opts.resumeRunId !== undefined && (live.spec.holderIdentity ?? '').endsWith(`/${opts.resumeRunId}`) && holderIsDeadHere(live.spec.holderIdentity);
    if (isLeaseFresh(live, now) && !resumable) {
      throw new PreflightError([{ check: 'one run at a time', message: `another run holds lease ${leaseNamespace}/${name}: ${live.spec.holderIdentity} since ${live.spec.acquireTime}`, fix: 'Wait for it to finish. If that run was killed, wait a minute for its lease to expire and run again with --resume DIR.' }]);
    }
    if (opts.resumeRunId === undefined) {
      throw new PreflightError([{ check: 'one run at a time', message: `a stale lease from an earlier run (${live.spec.holderIdentity}, since ${live.spec.acquireTime}) is still in place`, fix: 'That run was interrupted: continue it with --resume DIR (its backup directory), which takes the lease over.' }]);
    }
    await deps.kube.request({ method: 'PUT', path: objectPath(ref, name, leaseNamespace), body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, resourceVersion: live.metadata.resourceVersion }, spec } });
  }
  const timer = setInterval(() => {
    deps.kube.request({ method: 'PATCH', path: objectPath(ref, name, leaseNamespace), body: { spec: { renewTime: micro(deps.clock.now()) } } })
      .catch((e: unknown) => deps.log.debug(`lease renewal failed: ${(e as Error).message}`));
  }, (leaseDurationSeconds * 1000) / 3);
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await deps.kube.request({ method: 'DELETE', path: objectPath(ref, name, leaseNamespace) }).catch(() => undefined);
    },
  };
}
