/**
 * A fleet as data: the clusters to upgrade (from --contexts or a fleet file, fleet-file.ts), what
 * the survey found on each (survey.ts), and the fleet plan built from that (plan.ts, pure).
 */
import type { StrategyOption } from '../engine/types.ts';

/** One cluster of the fleet: its context and what its own run is given (defaults from the flags, a fleet file's entry wins). */
export interface FleetCluster {
  context: string;
  /** The cluster's backup/journal directory name inside the fleet directory (fleet-file.ts: clusterDirNames). */
  dir: string;
  /** Absent: --kubeconfig, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string | undefined;
  meshNamespace: string;
  method: 'auto' | 'meshctl' | 'helm';
  strategy: StrategyOption;
  /** nginx-meshctl binaries (or directories of them), as --meshctl takes them. */
  meshctl: string[];
  meshctlCurrent?: string | undefined;
  helm?: string | undefined;
  release?: string | undefined;
  chart?: string | undefined;
}

export interface FleetSpec {
  to: string;
  clusters: FleetCluster[];
  /** The first cluster to upgrade, alone (default: the first that needs the upgrade). */
  canary?: string | undefined;
  /** At most this many clusters at a time after the canary. */
  maxParallel: number;
}

/** What the fleet does with a cluster. */
export type ClusterAction =
  /** A fresh run: detected, planned and preflighted now. */
  | 'upgrade'
  /** Its run was interrupted: `--resume` of its own directory (fleet --resume). */
  | 'resume'
  /** Already on the target: nothing to run (a canary is still checked). */
  | 'up-to-date'
  /** Its run finished and was verified (fleet --resume). */
  | 'done'
  /** Detection, the plan or preflight refused it. */
  | 'refused';

export interface FleetRefusal {
  context?: string | undefined;
  check: string;
  message: string;
  fix: string;
}

/** What the survey found on one cluster (detect, plan, preflight), before anything changes. */
export interface ClusterSurvey {
  context: string;
  action: ClusterAction;
  /** The installed version (undefined when detection failed). */
  from?: string | undefined;
  method?: 'meshctl' | 'helm' | undefined;
  release?: string | undefined;
  environment?: string | undefined;
  hops: { from: string; to: string; strategy: string }[];
  /** The run's steps as its task group shows them (gates first). */
  steps: { id: string; title: string }[];
  refusals: FleetRefusal[];
  warnings: string[];
}

export interface Wave {
  /** 1-based. */
  index: number;
  canary: boolean;
  contexts: string[];
}

export interface FleetPlan {
  to: string;
  canary: string | undefined;
  /** In order; the canary's wave first. Only clusters that run (or, for the canary, are checked). */
  waves: Wave[];
  clusters: ClusterSurvey[];
  /** Refused clusters left out with --skip-refused. */
  skipped: string[];
  /** Non-empty: the fleet does not start (exit 3). */
  refusals: FleetRefusal[];
  warnings: string[];
}

/**
 * The fleet's own `-o json` events (besides each cluster's run events, relayed with their context):
 * a cluster's run starting, its plain output, its failure and the fleet's check of it, each wave,
 * the canary's soak.
 */
export type FleetEventBody =
  | { step: 'cluster'; context: string; event: 'start'; resume: boolean; args: string[] }
  | { step: 'cluster'; context: string; event: 'output'; message: string }
  | {
      step: 'cluster';
      context: string;
      event: 'failed';
      exitCode: number;
      failedStep?: string | undefined;
      error: string;
    }
  | { step: 'verify'; context: string; event: 'done'; message: string }
  | { step: 'verify'; context: string; event: 'failed'; error: string }
  | { step: 'wave'; event: 'start'; wave: number; canary: boolean; contexts: string[] }
  | { step: 'soak'; context: string; event: 'start'; seconds: number }
  | { step: 'soak'; context: string; event: 'done' }
  | { step: 'soak'; context: string; event: 'failed'; error: string };
