import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { acquireLease } from '../upgrade/lease.ts';

/** How a command holds the mesh's Lease (see holdLease). */
export interface UnderLeaseOptions {
  meshNamespace: string;
  operation: string;
  backupDir?: string | undefined;
  /** The lease holder (default: a new id); an upgrade journals it. */
  runId?: string | undefined;
  /** A resumed upgrade takes over the lease of the run it resumes. */
  resumeRunId?: string | undefined;
  breakLock?: boolean | undefined;
  /** What the first and the second Ctrl-C print (default: a line naming the operation). */
  firstSignal?: string | undefined;
  secondSignal?: string | undefined;
}

/** A held Lease with the signal rules installed; release() undoes both. */
export interface HeldRun {
  signal: AbortSignal;
  /** "held by run X" (or taken over from a resumed run): shown in the task list. */
  describe: string;
  release(): Promise<void>;
}

/**
 * Takes the Lease and installs the signal rules: the first Ctrl-C or SIGTERM aborts `signal`
 * (waits and retries end, the work reports what it did), the second stops the running child
 * command (its own process group) and releases the lease, then exits 130.
 */
export async function holdLease(deps: Deps, opts: UnderLeaseOptions, abort = new AbortController()): Promise<HeldRun> {
  const runId = opts.runId ?? randomUUID().slice(0, 8);
  const lease = await acquireLease(deps, { meshNamespace: opts.meshNamespace, runId, resumeRunId: opts.resumeRunId, operation: opts.operation, backupDir: opts.backupDir, breakLock: opts.breakLock });
  lease.lost.addEventListener('abort', () => abort.abort(lease.lost.reason), { once: true });
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${opts.firstSignal ?? `${name}: stopping ${opts.operation} (what is done is reported). Again to stop at once.`}\n`);
      abort.abort(new Error('interrupted'));
      return;
    }
    // At once, but cleanly: the running nginx-meshctl/helm (own process group) is stopped and
    // waited for, and the lease is released, so a resume is not refused. Exit 130.
    if (opts.secondSignal) process.stderr.write(`\n${opts.secondSignal}\n`);
    setTimeout(() => process.exit(130), 15_000).unref();
    void deps.exec.stopAll(5_000).finally(() => lease.release()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    describe: `held by run ${runId}${opts.resumeRunId ? ` (taken over from run ${opts.resumeRunId})` : ''}`,
    async release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await lease.release();
    },
  };
}

/**
 * Runs a command that changes the mesh's resources or workloads (restore, restart) under the same
 * Lease as an upgrade, so they cannot race one, with the upgrade's signal rules (holdLease).
 */
export async function underLease<T>(deps: Deps, opts: UnderLeaseOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const held = await holdLease(deps, opts);
  try {
    return await fn(held.signal);
  } finally {
    await held.release();
  }
}
