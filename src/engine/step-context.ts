/**
 * What a step executor gets and returns: its own module, so the executors of other folders
 * (rollback/steps.ts) can use the types without importing upgrade/steps.ts, which imports them.
 */
import type { Deps } from '../deps.ts';
import type { ClusterIdentity } from './journal-schema.ts';
import type { Hop, Plan, Step } from './types.ts';
import type { WorkloadRef } from '../workloads/owners.ts';

/** What is checked before each step and each command that changes the cluster (step-commands.ts). */
export interface RunGuard {
  /** The run's cluster, as journaled at its start: each command's own kubeconfig must reach it. */
  cluster: ClusterIdentity;
  /** Fencing: throws unless the API server says the run still holds its lease. */
  leaseHeld(): Promise<void>;
}

/** What every step executor gets; `step` is the executor's own kind, with its typed params. */
export interface StepContext<S extends Step = Step> {
  deps: Deps;
  plan: Plan;
  hop: Hop;
  step: S;
  timeoutMs: number;
  concurrency: number;
  restart: 'behind' | 'all' | 'none';
  deleteBarePods: boolean;
  /** The re-roll's failure gate (--max-failures; default 1) and canary (--first). */
  maxFailures?: number | undefined;
  first?: WorkloadRef | undefined;
  /** This run's id: a re-roll records its progress under it (workloads/reroll-record.ts). */
  runId?: string | undefined;
  /** Data journaled by the steps finished so far (this run and the runs it resumes). */
  journalData: ReadonlyMap<string, Record<string, unknown>>;
  /** A line of progress under the step's title. */
  progress: (message: string) => void;
  signal: AbortSignal;
  guard: RunGuard;
}

/** Problems that do not stop the run but make it end "not converged" (exit 4). */
export interface StepOutcome {
  data?: Record<string, unknown>;
  unresolved?: string[];
  /** A note shown when the step was recognised as already done (resume). */
  skipped?: string;
}

