/**
 * The rules of the mesh's Lease (lease.ts), pure: when a lease is fresh (on the API server's clock,
 * never this machine's, which may be off by minutes), whose it is, and when a run may take it over.
 */
import fs from 'node:fs';
import os from 'node:os';
import { pidRuns } from '../process-alive.ts';

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

/** `serverNowMs`: the API server's time (Kube.serverNow), the clock the lease's renewTime is written on. */
export function isLeaseFresh(lease: LeaseObject, serverNowMs: number): boolean {
  const renew = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '');
  if (!Number.isFinite(renew)) return false;
  return serverNowMs < renew + (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
}

/** The holder is a process on this host that no longer runs (killed): its lease can be taken over at once. */
export function holderIsDeadHere(holder: string | undefined, host = os.hostname(), alive = pidRuns): boolean {
  const m = /^(.*)\/pid-(\d+)\/[^/]+$/.exec(holder ?? '');
  return m !== null && m[1] === host && !alive(Number(m[2]));
}

/** What a refusal says about the run that holds the lease, and how to get past it. */
export function describeHolder(
  live: LeaseObject,
  dirExists: (dir: string) => boolean = fs.existsSync,
): { what: string; fix: string } {
  const op = live.metadata.annotations?.[operationAnnotation] ?? 'run';
  const dir = live.metadata.annotations?.[backupDirAnnotation];
  const what = `${op} ${live.spec.holderIdentity ?? '(no holder)'} since ${live.spec.acquireTime ?? '?'}${dir ? `, backup and journal in ${dir}` : ''}`;
  if (dir && !dirExists(dir)) {
    return {
      what,
      fix: `That run was interrupted and its directory ${dir} is not on this machine: the cluster may be half-upgraded (the mesh removed, resources only in that backup). Resume it from the machine that has ${dir} (--resume ${dir}); if that directory is lost, check the mesh with \`kubectl nsm-upgrade status\`, then pass --break-lock to take the lease over.`,
    };
  }
  return {
    what,
    fix: `That run was interrupted: continue it with --resume ${dir ?? 'DIR'} (its backup directory), which takes the lease over.`,
  };
}

export interface TakeoverInput {
  /** `namespace/name` of the lease, for the refusal. */
  ref: string;
  /** The run this one continues (a resume, or a rollback of it): only its own lease may be taken over. */
  resumeRunId?: string | undefined;
  breakLock?: boolean | undefined;
  /** The API server's time now. */
  serverNowMs: number;
  /** The holder was a process on this host that is gone (holderIsDeadHere). */
  deadHere: boolean;
}

export type Takeover = { take: true; warn?: string } | { take: false; message: string; fix: string };

/**
 * Whether a run may take over the lease another holder has: a resume (or rollback) takes over its
 * own run's lease once it is stale, or at once when that run's process on this host is gone; the
 * stale lease of any other run only with --break-lock; a fresh lease held by a live run never.
 */
export function takeover(live: LeaseObject, held: { what: string; fix: string }, t: TakeoverInput): Takeover {
  const holder = live.spec.holderIdentity ?? '';
  const own = t.resumeRunId !== undefined && holder.endsWith(`/${t.resumeRunId}`);
  const fresh = isLeaseFresh(live, t.serverNowMs);
  if (fresh && !(own && t.deadHere)) {
    return {
      take: false,
      message: `another run holds lease ${t.ref}: ${held.what}`,
      fix: 'Wait for it to finish. If that run was killed, wait a minute for its lease to expire and run again with --resume DIR.',
    };
  }
  if (own) return { take: true };
  if (t.breakLock)
    return {
      take: true,
      warn: `--break-lock: taking over the lease of an interrupted run (${held.what}); that run's upgrade may be half done`,
    };
  if (t.resumeRunId !== undefined) {
    return {
      take: false,
      message: `a stale lease ${t.ref} of another run is in place (${held.what}), not of run ${t.resumeRunId}, which this one continues`,
      fix: `${held.fix} Only when that run cannot be continued: check the mesh with \`kubectl nsm-upgrade status\`, then pass --break-lock.`,
    };
  }
  return { take: false, message: `a stale lease from an earlier run is still in place (${held.what})`, fix: held.fix };
}
