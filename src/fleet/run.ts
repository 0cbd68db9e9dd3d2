/**
 * The fleet's run: wave after wave, each cluster's upgrade as its own run of this tool (a child
 * process: `kubectl nsm-upgrade --context C --to V --backup-dir FLEETDIR/C --yes -o json`, or
 * `--resume FLEETDIR/C`), so every cluster gets exactly the single-cluster run, with its own
 * preflight, Lease, journal and resume. Its JSON events drive the cluster's task group (a live
 * list with a group per cluster; `-o json`: the same events, each with its context). A cluster
 * passes when its run exits 0 and the fleet then finds it converged on the target; a wave starts
 * only when every cluster of the one before passed; after the canary's wave, `--soak` waits and
 * checks the canary again. A failure stops the fleet there: clusters not started are not touched,
 * and `<fleet dir>/fleet.json` says where each cluster is.
 */
import type { FleetDeps } from '../deps.ts';
import { checkConvergence, type ClusterCheck } from './survey.ts';
import type { FleetCluster } from './types.ts';
import { fleetRun, type FleetRunInput } from './fleet-run.ts';
import { runWave, soak } from './waves.ts';

export type { FleetRunInput } from './fleet-run.ts';

/** The check after each cluster's run and after the soak: the cluster read again (its own API client). */
export function checkCluster(fd: Pick<FleetDeps, 'cluster'>, to: string): (c: FleetCluster) => Promise<ClusterCheck> {
  return (c) =>
    fd
      .cluster(c)
      .then((deps) => checkConvergence(deps, c, to))
      .catch((err: unknown) => ({ problem: `cannot read the cluster: ${(err as Error).message}` }));
}

export interface FleetResult {
  /** Why the fleet stopped before its last wave (a cluster, the soak, an interrupt); undefined: it went through. */
  stopped?: { context?: string | undefined; why: string; exitCode: number } | undefined;
}

/** Runs the fleet's waves (waves.ts), the soak after the canary's, and stops at the first cluster that does not pass. */
export async function runFleet(fd: FleetDeps, input: FleetRunInput): Promise<FleetResult> {
  const fleet = fleetRun(fd, input);
  const { plan, state } = input;
  // A resumed fleet whose canary passed before, but not its soak (the fleet stopped during it): soak first.
  const canaryDone =
    plan.canary !== undefined && ['done', 'up-to-date'].includes(state.clusters[plan.canary]?.status ?? '');
  if (
    canaryDone &&
    state.settings.soakMs > 0 &&
    state.soak !== 'passed' &&
    plan.waves.length &&
    !plan.waves.some((w) => w.canary)
  ) {
    const problem = await soak(fleet, plan.canary!);
    if (problem)
      return {
        stopped: {
          context: plan.canary,
          why: `the canary after the soak: ${problem}`,
          exitCode: input.signal.aborted ? 130 : 1,
        },
      };
  }
  for (const w of plan.waves) {
    if (input.signal.aborted) return { stopped: { why: 'interrupted', exitCode: 130 } };
    const runs = await runWave(fleet, w);
    for (const r of runs) {
      const rec = state.clusters[r.context]!;
      if (rec.status !== 'done' && rec.status !== 'up-to-date') {
        return {
          stopped: {
            context: r.context,
            why: rec.message ?? rec.status,
            exitCode: rec.status === 'interrupted' ? 130 : rec.exitCode === 4 ? 4 : 1,
          },
        };
      }
    }
    if (w.canary && state.settings.soakMs > 0 && state.soak !== 'passed' && plan.waves.at(-1) !== w) {
      const problem = await soak(fleet, plan.canary!);
      if (problem)
        return {
          stopped: {
            context: plan.canary,
            why: `the canary after the soak: ${problem}`,
            exitCode: input.signal.aborted ? 130 : 1,
          },
        };
    }
  }
  return {};
}
