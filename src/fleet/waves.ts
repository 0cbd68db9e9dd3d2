/**
 * A fleet's waves and its soak: each wave's clusters run at once (cluster-run.ts), each as a task
 * group of its steps and a final check; the soak waits after the canary's wave and checks the
 * canary again.
 */
import { Listr, type ListrTask } from 'listr2';
import { listOptions } from '../engine/gates.ts';
import { StepTracker } from './child-events.ts';
import { groupTitle } from './format.ts';
import type { Wave } from './types.ts';
import { startCluster, type ClusterRun } from './cluster-run.ts';
import type { FleetRun } from './fleet-run.ts';

function clusterTask(fleet: FleetRun, context: string, runs: ClusterRun[]): ListrTask {
  const c = fleet.byContext.get(context)!;
  const s = fleet.surveys.get(context)!;
  const { plan, state } = fleet.input;
  const spec = state.spec;
  return {
    title: groupTitle(plan, s),
    task: (_ctx, group) => {
      const steps = s.action === 'up-to-date' ? [] : s.steps;
      const tracker = new StepTracker(steps);
      const run = startCluster(fleet, c, s, tracker);
      runs.push(run);
      return group.newListr(
        [
          ...steps.map((st): ListrTask => ({
            title: `[${st.id}] ${st.title}`,
            task: async (_c, t) => {
              tracker.onProgress(st.id, (m) => {
                t.output = m;
              });
              const o = await tracker.outcome(st.id);
              const title = tracker.title(st.id) ?? st.title;
              // On a terminal the reason replaces the title: keep the step id in it (the plain renderer shows both).
              if (o.kind === 'skipped') {
                t.title = `[${st.id}] ${title}`;
                t.skip(process.stdout.isTTY ? `[${st.id}] ${o.reason}` : o.reason);
                return;
              }
              t.title = `[${st.id}] ${title}${o.note ? `: ${o.note}` : ''}`;
            },
          })),
          {
            title: `[verify] ${context} on ${spec.to}: control plane ready, every sidecar on ${spec.to}`,
            task: async () => {
              const r = await run.finished;
              if (r.status !== 'done' && r.status !== 'up-to-date') throw new Error(r.message ?? `exit ${r.exitCode}`);
            },
          },
        ],
        { concurrent: false, exitOnError: true },
      );
    },
  };
}

/** Runs a wave's clusters at once; resolves when every one has its record. */
export async function runWave(fleet: FleetRun, w: Wave): Promise<ClusterRun[]> {
  const { input, event } = fleet;
  const runs: ClusterRun[] = [];
  event({ step: 'wave', event: 'start', wave: w.index, canary: w.canary, contexts: w.contexts });
  await new Listr(
    w.contexts.map((ctx) => clusterTask(fleet, ctx, runs)),
    { ...listOptions(input), concurrent: w.contexts.length, exitOnError: false },
  )
    .run()
    .catch(() => undefined); // each cluster's outcome is in its record
  await Promise.all(runs.map((r) => r.finished));
  return runs;
}

/** Waits the soak, then checks the canary again; the problem found, if any (also in fleet.json and the events). */
export async function soak(fleet: FleetRun, canary: string): Promise<string | undefined> {
  const { fd, input, byContext, record, event } = fleet;
  const { state } = input;
  const spec = state.spec;
  const ms = state.settings.soakMs;
  let problem: string | undefined;
  event({ context: canary, step: 'soak', event: 'start', seconds: ms / 1000 });
  await new Listr(
    [
      {
        title: `[soak] ${ms / 1000}s, then ${canary} again: control plane ready, every sidecar on ${spec.to}`,
        task: async (_c, t) => {
          t.output = `until ${new Date(fd.clock.now() + ms).toISOString()}`;
          try {
            await fd.clock.sleep(ms, input.signal);
          } catch {
            problem = 'interrupted during the soak';
            throw new Error(problem);
          }
          problem = (await input.check(byContext.get(canary)!)).problem;
          if (problem) throw new Error(problem);
        },
      },
    ],
    listOptions(input),
  )
    .run()
    .catch(() => undefined);
  state.soak = problem ? 'failed' : 'passed';
  await record(canary, state.clusters[canary]!);
  event(
    problem
      ? { context: canary, step: 'soak', event: 'failed', error: problem }
      : { context: canary, step: 'soak', event: 'done' },
  );
  return problem;
}
