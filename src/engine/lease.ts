import os from 'node:os';
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, collectionPath, objectPath } from '../kube/paths.ts';
import { PreflightError, ToolError, ExitCode } from '../errors.ts';
import {
  backupDirAnnotation,
  describeHolder,
  holderIsDeadHere,
  isLeaseFresh,
  leaseDurationSeconds,
  leaseName,
  leaseNamespace,
  operationAnnotation,
  takeover,
  type LeaseObject,
} from './lease-rules.ts';
import { notYet, ready, waitFor } from '../wait.ts';

export {
  backupDirAnnotation,
  describeHolder,
  holderIsDeadHere,
  isLeaseFresh,
  leaseDurationSeconds,
  leaseName,
  leaseNamespace,
  operationAnnotation,
  type LeaseObject,
};

/**
 * One run at a time per mesh: a coordination.k8s.io Lease named `nsm-upgrade.<mesh namespace>`.
 * It lives in `default`, not in the mesh namespace, because the manual path deletes the mesh
 * namespace mid-run. A second run is refused while the lease is held and fresh; a lease whose
 * holder stopped renewing (a killed run) is taken over by the resume (or rollback) of that same run,
 * and another run's only with --break-lock (its backup directory is gone, it cannot be resumed).
 * Times are the API server's (Kube.serverNow), written and judged on its clock.
 *
 * Every write after the create carries the last resourceVersion seen as a precondition, and is
 * made only while the holder is still this run: a run never renews or deletes a lease that another
 * run took over. A renewal that keeps failing (an API outage) past the grace period, half the
 * lease's duration, makes the lease lost before it can expire: the run stops before its next write.
 */

/** The lease is no longer (surely) this run's: the run stops before its next write. */
export class LeaseLostError extends ToolError {
  constructor(message: string) {
    super(
      message,
      ExitCode.failed,
      'Nothing more was changed after this. Once the API server answers and no other run works on the mesh, continue with --resume DIR.',
    );
  }
}

export interface HeldLease {
  release(): Promise<void>;
  /** Aborted (reason: a LeaseLostError) when the lease was taken over, deleted, expired, or not renewed within the grace period. */
  readonly lost: AbortSignal;
  /** Fencing, before a destructive command: asks the API server that the lease is still this run's and fresh; throws LeaseLostError otherwise. */
  check(): Promise<void>;
}

export interface LeaseOptions {
  meshNamespace: string;
  runId: string;
  /** The run this one continues (a resume, or a rollback of it): its lease, and only its, may be taken over. */
  resumeRunId?: string | undefined;
  /** The run's backup and journal directory, recorded so a refusal can say where to resume from. */
  backupDir?: string | undefined;
  /** What takes the lease: upgrade, restore, restart (said in a refusal). */
  operation?: string | undefined;
  /** Take over another run's stale lease (--break-lock); never a fresh one held by a live run. */
  breakLock?: boolean | undefined;
  /** Seconds (default 60): renewed every third of it, lost after half of it without a renewal. Shorter only in tests. */
  durationSeconds?: number | undefined;
}

const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function isStatus(err: unknown, status: number): boolean {
  return err instanceof KubeApiError && err.status === status;
}

/** Takes the lease, or refuses (PreflightError, exit 3) naming the run that holds it. */
export async function acquireLease(deps: Deps, opts: LeaseOptions): Promise<HeldLease> {
  const ref = core.leases;
  const name = leaseName(opts.meshNamespace);
  const path = objectPath(ref, name, leaseNamespace);
  const holder = `${os.hostname()}/pid-${process.pid}/${opts.runId}`;
  const duration = opts.durationSeconds ?? leaseDurationSeconds;
  const annotations = {
    ...(opts.backupDir ? { [backupDirAnnotation]: opts.backupDir } : {}),
    [operationAnnotation]: opts.operation ?? 'upgrade',
  };
  const read = () =>
    deps.kube.request<LeaseObject>({ path }).catch((e: unknown) => (isStatus(e, 404) ? undefined : Promise.reject(e)));
  // Read first: the answer's Date header sets the server's clock (Kube.serverNow) for every time below.
  let live = await read();
  const body = (resourceVersion?: string) => {
    const now = micro(deps.kube.serverNow());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, annotations, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: { holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: now, renewTime: now },
    };
  };
  let current: LeaseObject | undefined;
  if (!live) {
    try {
      current = await deps.kube.request<LeaseObject>({
        method: 'POST',
        path: collectionPath(ref, leaseNamespace),
        body: body(),
      });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      live = await read();
    }
  }
  if (!current && live?.spec.holderIdentity === holder) current = live; // our own create went through, its answer was lost
  if (!current) {
    if (!live)
      throw new PreflightError([
        {
          check: 'one run at a time',
          message: `lease ${leaseNamespace}/${name} was created and deleted by another run while this one took it`,
          fix: 'Run again.',
        },
      ]);
    const held = describeHolder(live);
    const t = takeover(live, held, {
      ref: `${leaseNamespace}/${name}`,
      resumeRunId: opts.resumeRunId,
      breakLock: opts.breakLock,
      serverNowMs: deps.kube.serverNow(),
      deadHere: holderIsDeadHere(live.spec.holderIdentity),
    });
    if (!t.take) throw new PreflightError([{ check: 'one run at a time', message: t.message, fix: t.fix }]);
    if (t.warn) deps.log.warn(t.warn);
    current = await deps.kube.request<LeaseObject>({ method: 'PUT', path, body: body(live.metadata.resourceVersion) });
  }
  return keepLease(deps, { path, name, holder, duration }, current);
}

/** Renews a held lease until released; see acquireLease. */
function keepLease(
  deps: Deps,
  l: { path: string; name: string; holder: string; duration: number },
  first: LeaseObject,
): HeldLease {
  let current = first;
  const lost = new AbortController();
  const lose = (why: string) => {
    if (!lost.signal.aborted) lost.abort(new LeaseLostError(`lease ${leaseNamespace}/${l.name}: ${why}`));
  };
  const ours = (x: LeaseObject) => x.spec.holderIdentity === l.holder;
  const readLive = () =>
    deps.kube
      .request<LeaseObject>({ path: l.path })
      .catch((e: unknown) => (isStatus(e, 404) ? undefined : Promise.reject(e)));

  /** Renews with the last resourceVersion as precondition; on a conflict re-reads once, and stops if another run holds it. */
  const renew = async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const next = { ...current, spec: { ...current.spec, renewTime: micro(deps.kube.serverNow()) } };
      try {
        current = await deps.kube.request<LeaseObject>({ method: 'PUT', path: l.path, body: next });
        return;
      } catch (err) {
        if (!isStatus(err, 409) && !isStatus(err, 404)) throw err;
        const live = await readLive();
        if (!live || !ours(live))
          return lose(
            `${live ? `taken over by ${live.spec.holderIdentity}` : 'deleted'}: another run may be changing the mesh`,
          );
        current = live;
      }
    }
  };

  const every = (l.duration * 1000) / 3;
  const graceMs = (l.duration * 1000) / 2;
  const tickMs = Math.max(250, every / 4);
  const stop = new AbortController();
  let lastRenewed = deps.clock.now();
  let renewing: Promise<void> | undefined;
  let lastError: string | undefined;
  // A watchdog, not a chain of renewals: a renewal that hangs (an API server that stopped answering)
  // must not keep the run writing past the point where its lease can expire.
  // It ends when the lease is released (stop) or lost.
  void waitFor(
    {
      clock: deps.clock,
      timeoutMs: Infinity,
      intervalMs: tickMs,
      signal: stop.signal,
      what: `lease ${leaseNamespace}/${l.name} to be released`,
    },
    async () => {
      const since = deps.clock.now() - lastRenewed;
      if (!renewing && (since >= every || lastError !== undefined)) {
        renewing = renew()
          .then(
            () => {
              lastRenewed = deps.clock.now();
              lastError = undefined;
            },
            (e: unknown) => {
              lastError = (e as Error).message;
              deps.log.warn(
                `lease ${leaseNamespace}/${l.name}: renewal failed (${lastError}); retrying, the run stops if it is not renewed within ${graceMs / 1000}s of the last renewal`,
              );
            },
          )
          .finally(() => {
            renewing = undefined;
          });
      }
      if (deps.clock.now() - lastRenewed >= graceMs) {
        lose(
          `not renewed for ${Math.round((deps.clock.now() - lastRenewed) / 1000)}s (last error: ${lastError ?? 'the renewal has not finished (the API server does not answer, or keeps failing)'}); stopping before it can expire and another run take it`,
        );
      }
      return lost.signal.aborted ? ready(undefined) : notYet('');
    },
  ).catch(() => undefined); // released: the pause ended by `stop`
  return {
    lost: lost.signal,
    async check() {
      if (lost.signal.aborted) throw lost.signal.reason as LeaseLostError;
      const live = await readLive();
      if (!live || !ours(live))
        lose(`${live ? `taken over by ${live.spec.holderIdentity}` : 'deleted'}: another run may be changing the mesh`);
      else if (!isLeaseFresh(live, deps.kube.serverNow()))
        lose(`expired on the API server's clock (renewed last at ${live.spec.renewTime})`);
      if (lost.signal.aborted) throw lost.signal.reason as LeaseLostError;
    },
    async release() {
      stop.abort();
      await renewing?.catch(() => undefined);
      if (lost.signal.aborted) return;
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await deps.kube.request({
            method: 'DELETE',
            path: l.path,
            body: {
              apiVersion: 'v1',
              kind: 'DeleteOptions',
              preconditions: { resourceVersion: current.metadata.resourceVersion },
            },
          });
          return;
        } catch (err) {
          if (isStatus(err, 404)) return;
          if (!isStatus(err, 409)) {
            deps.log.warn(
              `lease ${leaseNamespace}/${l.name} was not released (${(err as Error).message}); it expires ${l.duration}s after its last renewal`,
            );
            return;
          }
          const live = await readLive().catch(() => undefined);
          if (!live || !ours(live)) return; // another run holds it now: not ours to delete
          current = live;
        }
      }
    },
  };
}
