/**
 * `fleet --resume DIR`: where each cluster is, from the fleet's record (state.ts), as the survey
 * the plan is built from. A cluster that finished stays done; one whose run was interrupted (or
 * failed) resumes its own run from its journal; one whose run never wrote a journal, or that never
 * started, is surveyed afresh (detect, plan, preflight). A run of the interrupted fleet that is
 * still alive refuses its cluster: the fleet never runs two upgrades of one cluster. So does a run
 * that was rolled back (--on-failure rollback): it is over; a new fleet upgrades that cluster again.
 */
import path from 'node:path';
import type { FleetDeps } from '../deps.ts';
import { mapLimit } from '../concurrency.ts';
import { pidRuns } from '../process-alive.ts';
import { journalFile } from '../engine/journal.ts';
import { clusterBackupDir } from './cluster-args.ts';
import type { FleetState } from './state.ts';
import { surveyCluster, surveyInterrupted, type SurveySettings } from './survey.ts';
import type { ClusterSurvey, FleetCluster, FleetSpec } from './types.ts';

/** How many clusters the survey reads at once. */
export const surveyConcurrency = 4;

export function surveyFleet(fd: FleetDeps, spec: FleetSpec, s: SurveySettings): Promise<ClusterSurvey[]> {
  return mapLimit(spec.clusters, surveyConcurrency, (c) => surveyCluster(fd, c, s));
}

/**
 * Is the cluster's run from the interrupted fleet still running? Its pid answers, is not a zombie (a
 * killed run waits to be reaped), and (where /proc tells) it still runs this cluster's directory: a pid
 * reused by another program does not count.
 */
export async function runStillAlive(fd: Pick<FleetDeps, 'fs'>, pid: number, clusterDir: string): Promise<boolean> {
  if (!pidRuns(pid)) return false;
  let cmdline: string;
  try {
    cmdline = await fd.fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc here: the pid answers, so take it as alive
  }
  return cmdline.split('\0').includes(clusterDir);
}

async function exists(fd: Pick<FleetDeps, 'fs'>, p: string): Promise<boolean> {
  return fd.fs.stat(p).then(
    () => true,
    () => false,
  );
}

async function resumeSurvey(
  fd: FleetDeps,
  state: FleetState,
  c: FleetCluster,
  s: SurveySettings,
): Promise<ClusterSurvey> {
  const r = state.clusters[c.context]!;
  const base = { context: c.context, from: r.from, hops: [], steps: [], refusals: [], warnings: [] };
  switch (r.status) {
    case 'done':
    case 'up-to-date':
      return { ...base, action: r.status };
    case 'skipped':
      return {
        ...base,
        action: 'refused',
        refusals: [
          {
            check: 'skipped',
            message: r.message ?? 'refused when the fleet started',
            fix: 'upgrade it on its own once fixed',
          },
        ],
      };
    case 'pending':
      return surveyCluster(fd, c, s);
    default: {
      if (r.rolledBack) {
        return {
          ...base,
          action: 'refused',
          refusals: [
            {
              check: 'rolled-back',
              message: `its run failed and was rolled back to ${r.now ?? r.from ?? 'its version'} (--on-failure rollback): that run is over`,
              fix: `fix the cause, then start a new fleet with a new --backup-dir (clusters already on ${state.spec.to} are only checked there)`,
            },
          ],
        };
      }
      if (r.pid !== undefined && (await runStillAlive(fd, r.pid, clusterBackupDir(s.fleetDir, c)))) {
        return {
          ...base,
          action: 'refused',
          refusals: [
            {
              check: 'running',
              message: `its run from the interrupted fleet (pid ${r.pid}) is still running`,
              fix: `wait for it to end (its journal: ${clusterBackupDir(s.fleetDir, c)}), then resume the fleet`,
            },
          ],
        };
      }
      const journaled = await exists(fd, path.join(clusterBackupDir(s.fleetDir, c), journalFile));
      return journaled ? surveyInterrupted(fd, c, s.fleetDir) : surveyCluster(fd, c, s);
    }
  }
}

export function surveyForResume(fd: FleetDeps, state: FleetState, s: SurveySettings): Promise<ClusterSurvey[]> {
  return mapLimit(state.spec.clusters, surveyConcurrency, (c) => resumeSurvey(fd, state, c, s));
}
