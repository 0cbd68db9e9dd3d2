import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { acquireLease } from '../upgrade/lease.ts';

/**
 * Runs a command that changes the mesh's resources or workloads (restore, restart) under the same
 * Lease as an upgrade, so they cannot race one, with the upgrade's signal rules: the first Ctrl-C
 * or SIGTERM aborts `signal` (waits and retries end, the work reports what it did), the second
 * stops at once after releasing the lease (exit 130).
 */
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

export async function underLease<T>(deps: Deps, opts: UnderLeaseOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const lease = await acquireLease(deps, { meshNamespace: opts.meshNamespace, runId: opts.runId ?? randomUUID().slice(0, 8), resumeRunId: opts.resumeRunId, operation: opts.operation, backupDir: opts.backupDir, breakLock: opts.breakLock });
  const ac = new AbortController();
  lease.lost.addEventListener('abort', () => ac.abort(lease.lost.reason), { once: true });
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${opts.firstSignal ?? `${name}: stopping ${opts.operation} (what is done is reported). Again to stop at once.`}\n`);
      ac.abort(new Error('interrupted'));
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
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lease.release();
  }
}
