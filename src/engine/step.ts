/**
 * A plan's step, made in one place (`step`), and what runs it (`Executor`). Each phase
 * (engine/phases/*.ts) exports the factories of its steps, which the upgrade's hops and the
 * rollback's plan compose, and their executors, which executors.ts joins into the one table.
 */
import type { Command } from '../exec/runner.ts';
import type { StepContext, StepOutcome } from './step-context.ts';
import type { StepKind, StepOf, StepOutputs } from './types.ts';

/** A step of hop `hop`: id `hop<N>.<kind>`; `writes` (changes the cluster) unless said, not destructive unless said. */
export function step<K extends StepKind>(
  hop: number,
  kind: K,
  title: string,
  flags: { destructive?: boolean; writes?: boolean },
  commands: Command[],
  params: StepOf<K>['params'],
): StepOf<K> {
  return {
    id: `hop${hop}.${kind}`,
    kind,
    title,
    destructive: flags.destructive ?? false,
    writes: flags.writes ?? true,
    commands,
    params,
  } as StepOf<K>;
}

/** Runs one step of kind K and reports what its kind reports (StepOutputs[K]). */
export type Executor<K extends StepKind> = (ctx: StepContext<StepOf<K>>) => Promise<StepOutcome<StepOutputs[K]>>;

/** The executors of some step kinds (a phase's). */
export type Executors<K extends StepKind> = { readonly [P in K]: Executor<P> };
