import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { acquireLease, LeaseLostError } from './lease.ts';
import type { ClusterIdentity } from './journal.ts';
import type { RunGuard } from './step-context.ts';
import { installRunSignals, type RunSignals } from './signals.ts';

/** How a command holds the mesh's Lease (see holdLease). */
export interface UnderLeaseOptions {
  meshNamespace: string;
  operation: string;
  backupDir?: string | undefined;
  /** The lease holder (default: a new id); an upgrade journals it. */
  runId?: string | undefined;
  /** The run this one continues (a resume, or a rollback of it): its stale lease is taken over, no other. */
  resumeRunId?: string | undefined;
  breakLock?: boolean | undefined;
  /** What the first and the second Ctrl-C print (default: a line naming the operation). */
  firstSignal?: string | undefined;
  secondSignal?: string | undefined;
}

/** A held Lease with the signal rules for it; release() gives the lease back. */
export interface HeldRun {
  signal: AbortSignal;
  /** "held by run X" (or taken over from a resumed run): shown in the task list. */
  describe: string;
  /** Fencing before a destructive command: throws unless the API server says the lease is still this run's. */
  check(): Promise<void>;
  /** Aborted when the lease is lost (taken over, or not renewed in time): no write may follow. */
  lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Takes the Lease and puts the command's signal rules (signals.ts, installed at its start; here when
 * the caller did not) under it: the first signal aborts `signal`, the second stops the running child
 * command, releases the lease and exits 130. A lost lease aborts `signal` too, saying why.
 */
export async function holdLease(deps: Deps, opts: UnderLeaseOptions, given?: RunSignals): Promise<HeldRun> {
  const signals = given ?? installRunSignals(deps, opts.operation);
  const runId = opts.runId ?? randomUUID().slice(0, 8);
  let lease;
  try {
    lease = await acquireLease(deps, {
      meshNamespace: opts.meshNamespace,
      runId,
      resumeRunId: opts.resumeRunId,
      operation: opts.operation,
      backupDir: opts.backupDir,
      breakLock: opts.breakLock,
    });
  } catch (err) {
    if (!given) signals.dispose();
    throw err;
  }
  lease.lost.addEventListener(
    'abort',
    () => {
      process.stderr.write(`\n${(lease.lost.reason as Error).message}: stopping before the next change.\n`);
      signals.abort.abort(lease.lost.reason);
    },
    { once: true },
  );
  signals.underLease(
    {
      first:
        opts.firstSignal ??
        `Interrupted: stopping ${opts.operation} (what is done is reported). Again to stop at once.`,
      second: opts.secondSignal,
    },
    () => lease.release(),
  );
  return {
    signal: signals.abort.signal,
    describe: `held by run ${runId}${opts.resumeRunId ? ` (taken over from run ${opts.resumeRunId})` : ''}`,
    check: () => lease.check(),
    lost: lease.lost,
    async release() {
      await lease.release();
      if (!given) signals.dispose();
    },
  };
}

/** What a run's steps check before each change: the run's cluster (as journaled) and its lease (once taken). */
export function runGuard(cluster: ClusterIdentity, held: () => HeldRun | undefined): RunGuard {
  return {
    cluster,
    leaseHeld: () => {
      const h = held();
      return h ? h.check() : Promise.reject(new LeaseLostError('no lease is held by this run'));
    },
  };
}

/**
 * Runs a command that changes the mesh's resources or workloads (restore, restart) under the same
 * Lease as an upgrade, so they cannot race one, with the upgrade's signal rules (holdLease).
 */
export async function underLease<T>(
  deps: Deps,
  opts: UnderLeaseOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const held = await holdLease(deps, opts);
  try {
    return await fn(held.signal);
  } finally {
    await held.release();
  }
}
