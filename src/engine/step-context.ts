/**
 * What a step executor gets and returns, and how it reads what an earlier step reported
 * (`outputOf`: typed by the step's kind, never a cast at the reader).
 */
import type { WalkSettings } from './option-groups.ts';
import type { Deps } from '../deps.ts';
import type { ClusterIdentity } from './journal-schema.ts';
import type { Hop, Plan, Step, StepKind, StepOf, StepOutputs } from './types.ts';

/** What is checked before each step and each command that changes the cluster (step-commands.ts). */
export interface RunGuard {
  /** The run's cluster, as journaled at its start: each command's own kubeconfig must reach it. */
  cluster: ClusterIdentity;
  /** Fencing: throws unless the API server says the run still holds its lease. */
  leaseHeld(): Promise<void>;
}

/** What every step executor gets; `step` is the executor's own kind, with its typed params. */
export interface StepContext<S extends Step = Step> extends WalkSettings {
  deps: Deps;
  plan: Plan;
  hop: Hop;
  step: S;
  /** This run's id: a restart records its progress under it (workloads/restart-record.ts). */
  runId?: string | undefined;
  /** Data journaled by the steps finished so far (this run and the runs it resumes). */
  journalData: ReadonlyMap<string, Record<string, unknown>>;
  /** A line of progress under the step's title. */
  progress: (message: string) => void;
  signal: AbortSignal;
  guard: RunGuard;
}

/** What a step reports: its kind's output (journaled), and problems that do not stop the run but make it end "not converged" (exit 4). */
export interface StepOutcome<O = StepOutputs[StepKind]> {
  data?: O | undefined;
  unresolved?: string[];
  /** A note shown when the step was recognised as already done (resume). */
  skipped?: string | undefined;
}

/**
 * What `s`, a step of this run (or of the run it resumes), reported when it was done; undefined
 * while it is not done. The journal reader checked the record's shape; the data is the step's own.
 */
export function outputOf<K extends StepKind>(
  ctx: Pick<StepContext, 'journalData'>,
  s: StepOf<K> | undefined,
): StepOutputs[K] | undefined {
  return s ? (ctx.journalData.get(s.id) as StepOutputs[K] | undefined) : undefined;
}

/** The first step of kind `kind` in the context's hop. */
export function hopStep<K extends StepKind>(ctx: Pick<StepContext, 'hop'>, kind: K): StepOf<K> | undefined {
  return ctx.hop.steps.find((s): s is StepOf<K> => s.kind === kind);
}
