/**
 * The task list's shared rendering, and the gates before a run's steps: preflight, confirmation
 * and the Lease show as tasks of the same list (`[preflight] ...`), done or skipped with the reason,
 * and as events in `-o json`, so what let the run go ahead is on record next to its steps.
 */
import { Listr, type ListrTask } from 'listr2';
import type { Deps } from '../deps.ts';
import { scrub } from '../secret.ts';
import { eventLine, type RunEventBody } from './events.ts';

export interface Gate {
  id: 'preflight' | 'confirm' | 'lease' | 'prepull';
  title: string;
  /** Why it does not apply to this run (shown as skipped). */
  skip?: string | undefined;
  /** Does the gate's work; the returned text is shown after the title. A throw stops the run. */
  run: (progress: (m: string) => void) => Promise<string | undefined>;
}

export interface ListOutput {
  output: 'text' | 'json';
  emit: (line: string) => void;
}

/** listr2 options: a live list on a terminal, plain lines otherwise, nothing for -o json (events instead). */
export function listOptions(o: ListOutput) {
  return {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: 'default' as const,
    rendererOptions: { collapseSubtasks: false, showErrorMessage: false },
    fallbackRenderer: 'simple' as const,
    fallbackRendererCondition: () => !process.stdout.isTTY,
    silentRendererCondition: () => o.output === 'json',
  };
}

/** A `-o json` event of one task: `{at, step, event, ...}` (secrets scrubbed). */
export function eventEmitter(deps: Pick<Deps, 'clock'>, o: ListOutput, step: string): (e: RunEventBody) => void {
  return (e) => {
    if (o.output === 'json') o.emit(eventLine({ at: new Date(deps.clock.now()).toISOString(), step, ...e }));
  };
}

function gateTask(deps: Pick<Deps, 'clock'>, gate: Gate, o: ListOutput): ListrTask {
  const event = eventEmitter(deps, o, gate.id);
  return {
    title: `[${gate.id}] ${gate.title}`,
    skip: () => {
      if (gate.skip) event({ event: 'skipped', reason: gate.skip });
      return gate.skip ?? false;
    },
    task: async (_ctx, t) => {
      event({ event: 'start', title: gate.title });
      try {
        const said = await gate.run((m) => {
          t.output = scrub(m);
          event({ event: 'progress', message: scrub(m) });
        });
        if (said) t.title = `[${gate.id}] ${gate.title}: ${scrub(said)}`;
        event({ event: 'done', ...(said ? { message: scrub(said) } : {}) });
      } catch (err) {
        event({ event: 'failed', error: scrub((err as Error).message) });
        throw err;
      }
    },
  };
}

/** Runs gates as tasks of the task list, in order; the first failure is thrown as it is (a PreflightError keeps exit 3). */
export async function runGates(deps: Pick<Deps, 'clock'>, gates: readonly Gate[], o: ListOutput): Promise<void> {
  if (gates.length === 0) return;
  await new Listr(
    gates.map((g) => gateTask(deps, g, o)),
    listOptions(o),
  ).run();
}
