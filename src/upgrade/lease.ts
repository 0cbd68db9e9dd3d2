import fs from 'node:fs';
import os from 'node:os';
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, collectionPath, objectPath } from '../kube/paths.ts';
import { PreflightError } from '../errors.ts';
import { pidRuns } from '../process-alive.ts';

/**
 * One run at a time per mesh: a coordination.k8s.io Lease named `nsm-upgrade.<mesh namespace>`.
 * It lives in `default`, not in the mesh namespace, because the manual path deletes the mesh
 * namespace mid-run. A second run is refused while the lease is held and fresh; a lease whose
 * holder stopped renewing (a killed run) can be taken over with --resume, or broken with
 * --break-lock when the interrupted run cannot be resumed (its backup directory is gone).
 *
 * Every write after the create carries the last resourceVersion seen as a precondition, and is
 * made only while the holder is still this run: a run never renews or deletes a lease that another
 * run took over.
 */
export const leaseNamespace = 'default';
export const leaseDurationSeconds = 60;
/** The lease records what holds it and where that run keeps its backup and journal. */
export const backupDirAnnotation = 'nsm-upgrade.nginx.com/backup-dir';
export const operationAnnotation = 'nsm-upgrade.nginx.com/operation';

export interface LeaseObject {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
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

export interface HeldLease {
  release(): Promise<void>;
  /** Aborted when the lease was taken over by another run: the run must stop. */
  readonly lost: AbortSignal;
}

export interface LeaseOptions {
  meshNamespace: string;
  runId: string;
  resumeRunId?: string | undefined;
  /** The run's backup and journal directory, recorded so a refusal can say where to resume from. */
  backupDir?: string | undefined;
  /** What takes the lease: upgrade, restore, restart (said in a refusal). */
  operation?: string | undefined;
  /** Take over a lease whose run cannot be resumed (--break-lock); never a fresh one held by a live run. */
  breakLock?: boolean | undefined;
}

const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The holder is a process on this host that no longer runs (killed): its lease can be taken over at once. */
export function holderIsDeadHere(holder: string | undefined, host = os.hostname(), alive = pidRuns): boolean {
  const m = /^(.*)\/pid-(\d+)\/[^/]+$/.exec(holder ?? '');
  return m !== null && m[1] === host && !alive(Number(m[2]));
}

/** What a refusal says about the run that holds the lease, and how to get past it. */
export function describeHolder(live: LeaseObject, dirExists: (dir: string) => boolean = fs.existsSync): { what: string; fix: string } {
  const op = live.metadata.annotations?.[operationAnnotation] ?? 'run';
  const dir = live.metadata.annotations?.[backupDirAnnotation];
  const what = `${op} ${live.spec.holderIdentity ?? '(no holder)'} since ${live.spec.acquireTime ?? '?'}${dir ? `, backup and journal in ${dir}` : ''}`;
  if (dir && !dirExists(dir)) {
    return { what, fix: `That run was interrupted and its directory ${dir} is not on this machine: the cluster may be half-upgraded (the mesh removed, resources only in that backup). Resume it from the machine that has ${dir} (--resume ${dir}); if that directory is lost, check the mesh with \`kubectl nsm-upgrade status\`, then pass --break-lock to take the lease over.` };
  }
  return { what, fix: `That run was interrupted: continue it with --resume ${dir ?? 'DIR'} (its backup directory), which takes the lease over.` };
}

function isConflict(err: unknown, status: number): boolean {
  return err instanceof KubeApiError && err.status === status;
}

/**
 * Takes the lease. `resumeRunId` is the run being resumed: its lease may be taken over when it is
 * stale, or at once when its holder was a process on this machine that is gone.
 */
export async function acquireLease(deps: Deps, opts: LeaseOptions): Promise<HeldLease> {
  const ref = core.leases;
  const name = leaseName(opts.meshNamespace);
  const path = objectPath(ref, name, leaseNamespace);
  const holder = `${os.hostname()}/pid-${process.pid}/${opts.runId}`;
  const now = deps.clock.now();
  const annotations = { ...(opts.backupDir ? { [backupDirAnnotation]: opts.backupDir } : {}), [operationAnnotation]: opts.operation ?? 'upgrade' };
  const spec = { holderIdentity: holder, leaseDurationSeconds, acquireTime: micro(now), renewTime: micro(now) };
  const body = (resourceVersion?: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, annotations, ...(resourceVersion ? { resourceVersion } : {}) }, spec });
  let current: LeaseObject;
  try {
    current = await deps.kube.request<LeaseObject>({ method: 'POST', path: collectionPath(ref, leaseNamespace), body: body() });
  } catch (err) {
    if (!isConflict(err, 409)) throw err;
    const live = await deps.kube.request<LeaseObject>({ path });
    if (live.spec.holderIdentity === holder) {
      current = live; // our own create went through, but its answer was lost and the request retried
    } else {
      const resumable = opts.resumeRunId !== undefined && (live.spec.holderIdentity ?? '').endsWith(`/${opts.resumeRunId}`) && holderIsDeadHere(live.spec.holderIdentity);
      const fresh = isLeaseFresh(live, now);
      const held = describeHolder(live);
      if (fresh && !resumable) {
        throw new PreflightError([{ check: 'one run at a time', message: `another run holds lease ${leaseNamespace}/${name}: ${held.what}`, fix: 'Wait for it to finish. If that run was killed, wait a minute for its lease to expire and run again with --resume DIR.' }]);
      }
      if (opts.resumeRunId === undefined && !opts.breakLock) {
        throw new PreflightError([{ check: 'one run at a time', message: `a stale lease from an earlier run is still in place (${held.what})`, fix: held.fix }]);
      }
      if (opts.breakLock && !opts.resumeRunId) deps.log.warn(`--break-lock: taking over the lease of an interrupted run (${held.what}); that run's upgrade may be half done`);
      current = await deps.kube.request<LeaseObject>({ method: 'PUT', path, body: body(live.metadata.resourceVersion) });
    }
  }

  const lost = new AbortController();
  const ours = (l: LeaseObject) => l.spec.holderIdentity === holder;
  /** Renews with the last resourceVersion as precondition; on a conflict re-reads once, and stops if another run holds it. */
  const renew = async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const next = { ...current, spec: { ...current.spec, renewTime: micro(deps.clock.now()) } };
      try {
        current = await deps.kube.request<LeaseObject>({ method: 'PUT', path, body: next });
        return;
      } catch (err) {
        if (!isConflict(err, 409) && !isConflict(err, 404)) throw err;
        const live = await deps.kube.request<LeaseObject>({ path }).catch((e: unknown) => (isConflict(e, 404) ? undefined : Promise.reject(e)));
        if (!live || !ours(live)) {
          lost.abort(new Error(`lease ${leaseNamespace}/${name} was ${live ? `taken over by ${live.spec.holderIdentity}` : 'deleted'}: another run may be changing the mesh`));
          return;
        }
        current = live;
      }
    }
  };
  const timer = setInterval(() => {
    if (lost.signal.aborted) return;
    renew().catch((e: unknown) => deps.log.debug(`lease renewal failed: ${(e as Error).message}`));
  }, (leaseDurationSeconds * 1000) / 3);
  timer.unref();
  return {
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      if (lost.signal.aborted) return;
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await deps.kube.request({ method: 'DELETE', path, body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: current.metadata.resourceVersion } } });
          return;
        } catch (err) {
          if (isConflict(err, 404)) return;
          if (!isConflict(err, 409)) { deps.log.debug(`lease release failed: ${(err as Error).message}`); return; }
          const live = await deps.kube.request<LeaseObject>({ path }).catch(() => undefined);
          if (!live || !ours(live)) return; // another run holds it now: not ours to delete
          current = live;
        }
      }
    },
  };
}
