/**
 * The groups of options the commands share, as their parsed values. Each command's options are
 * composed from these (upgrade: cluster, binaries, run control and the upgrade's choices; a
 * resume: the same, each optional, checked against its journal; rollback: cluster, binaries, run
 * control), so a flag's field and meaning are declared once. The yargs declarations of the flags
 * live in cli/*-options.ts; what each value means is decided where these groups are read.
 */
import type { StrategyOption } from './types.ts';
import type { WorkloadRef } from '../workloads/owners.ts';

/** Which cluster the run acts on: --kubeconfig, --context (read once, at start). */
export interface ClusterOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** The binaries and chart the run uses; never taken from a journal (binary-digests.ts). */
export interface BinaryOptions {
  /** --meshctl PATH or VERSION=PATH, repeated. */
  meshctl?: readonly string[] | undefined;
  /** --meshctl-current PATH: the running version's nginx-meshctl (to remove). */
  meshctlCurrent?: string | undefined;
  /** --helm PATH. */
  helm?: string | undefined;
  /** --chart: a directory, a .tgz or a repository reference. */
  chart?: string | undefined;
  /** $PATH, where binaries are found by version when no flag names one. */
  pathEnv?: string | undefined;
}

/** How long each step may take: --timeout as given ("10m"), passed on to nginx-meshctl and helm. */
export interface StepTimeout {
  timeout: string;
}

/** What the upgrade changes and how: the choices that shape its plan. */
export interface UpgradeChoices {
  /** --to: the target version. */
  to: string;
  strategy: StrategyOption;
  /** --deploy-flag NAME=VALUE, repeated. */
  deployFlag?: readonly string[] | undefined;
  /** --label-namespaces. */
  labelNamespaces: boolean;
  /** --clean-leftovers. */
  cleanLeftovers?: boolean | undefined;
  /** --accept-pruning. */
  acceptPruning?: boolean | undefined;
  /** --delete-foreign-objects. */
  deleteForeignObjects?: boolean | undefined;
}

/** Where the installed mesh is: --mesh-namespace, --method, --release. */
export interface InstallLocation {
  meshNamespace: string;
  method: 'auto' | 'meshctl' | 'helm';
  release?: string | undefined;
}

/** --restart: which injected workloads the restart step rolls (those behind the target, all, none). */
export type RestartScope = 'behind' | 'all' | 'none';

/** How a walk's steps run: the time limit of each, the parallelism, and the restart's scope and safety. */
export interface WalkSettings {
  timeoutMs: number;
  concurrency: number;
  restart: RestartScope;
  /** --delete-bare-pods: pods without a controller are evicted so they come back injected. */
  deleteBarePods: boolean;
  /** The restart's failure gate (--max-failures; default 1) and canary (--first). */
  maxFailures?: number | undefined;
  first?: WorkloadRef | undefined;
}
