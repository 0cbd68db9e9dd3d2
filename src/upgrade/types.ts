/**
 * The plan as data (DESIGN.md "The flow, as data"): Install + PlanOptions -> Plan.
 * plan.ts builds it without I/O; the executor (steps.ts/run.ts) walks `hops[].steps[]` in order,
 * journaling each step by its stable id; `plan` and `--dry-run` print it.
 */
import type { Command } from '../controlplane/runner.ts';
import type { Install, InstallMethod } from '../mesh/detect.ts';
import type { Environment } from '../mesh/version-notes.ts';

export type { Install, InstallMethod, Environment, Command };

export type Strategy = 'in-place' | 'manual';
export type StrategyOption = 'auto' | Strategy;

/** Where the helm path finds the chart of each hop. */
export type ChartSource =
  /** A repository chart ("nginx-stable/nginx-service-mesh"), one `--version` per hop. */
  | { kind: 'repo'; ref: string }
  /** A directory with one chart per version: `<dir>/<version>/Chart.yaml` (the fixture layout). */
  | { kind: 'versioned-dir'; dir: string }
  /** One local chart (directory or .tgz): usable only for a single hop to its version. */
  | { kind: 'path'; path: string; version: string };

export interface PlanOptions {
  /** Target version (normalized or not: "1.7", "v1.7.0"). */
  to: string;
  strategy: StrategyOption;
  /**
   * nginx-meshctl binaries by version ("1.7.0" -> path), resolved by the caller from --meshctl
   * and --meshctl-current (plan-inputs.ts; --meshctl-current fills the installed version). Needed: each hop's target (upgrade/deploy) and, on
   * manual hops, each hop's source (remove).
   */
  meshctlBinaries: Readonly<Record<string, string>>;
  /** The binaries of meshctlBinaries that were found on PATH (not given), with why each was chosen. */
  meshctlFound?: Readonly<Record<string, { path: string; why: string }>> | undefined;
  /** helm binary and its major version (from `helm version --short`); needed on the helm method. */
  helm: { bin: string; major: 3 | 4 } | undefined;
  chart: ChartSource;
  /** Deploy settings the user changes (meshctl flag names without dashes -> value): forces manual. */
  deployFlagChanges: Readonly<Record<string, string>>;
  /** --label-namespaces: label the namespaces below before a hop to 2.0. */
  labelNamespaces: boolean;
  /** Namespaces with injected workloads that lack injector.nsm.nginx.com/auto-inject=enabled (computed by the caller). */
  unlabelledInjectedNamespaces: readonly string[];
  /** The run's backup directory; hop N backs up into `<backupDir>/hopN`. */
  backupDir: string;
  /** Per-step timeout as given on the command line ("10m"), passed to nginx-meshctl and helm. */
  timeout: string;
  /** Passed to helm/nginx-meshctl so they talk to the same cluster as the tool. */
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** Stable step kinds; a step's id is `hop<N>.<kind>`. */
export type StepKind =
  | 'backup' // back up CRs, CRDs and install config into params.dir, verified
  | 'label-namespaces' // add the 2.0 opt-in label to params.namespaces
  | 'apply-crds' // helm in-place: apply the target chart's CRDs through the API (Helm does not upgrade them)
  | 'upgrade' // in place: nginx-meshctl upgrade / helm upgrade
  | 'remove' // manual: nginx-meshctl remove (old binary) / helm uninstall
  | 'delete-crds' // manual helm: delete the CRDs labelled part-of=nginx-service-mesh (helm uninstall leaves them)
  | 'restart-unmeshed' // OpenShift manual: re-roll injected workloads so no pod keeps a sidecar
  | 'wait-sentinel' // OpenShift manual: wait until Job csi-driver-sentinel is deleted
  | 'deploy' // manual: nginx-meshctl deploy (new binary) / helm install with carried-over values
  | 'restore' // manual: re-create the backed-up CRs
  | 'restart' // re-roll injected workloads onto the new sidecar
  | 'verify'; // control plane on the hop's version, CRs equal to the backup, sidecars converged

export interface Step {
  /** Stable id: `hop1.backup`, `hop2.upgrade`, ... Journaled when done. */
  id: string;
  kind: StepKind;
  title: string;
  /** Deletes or replaces something (the confirmation prompt comes before the first one). */
  destructive: boolean;
  /** Changes the cluster (skipped in --dry-run); false for backup, wait and verify. */
  writes: boolean;
  /** The external commands this step runs, exactly, in order (empty when it works through the API). */
  commands: Command[];
  /** Data the executor needs (directories, namespaces, versions, values...). JSON-serializable. */
  params: Record<string, unknown>;
}

export interface Hop {
  /** 1-based. */
  index: number;
  from: string;
  to: string;
  strategy: Strategy;
  /** Why this strategy (e.g. "1.6 -> 1.7 on OpenShift must be manual: ..."). */
  reason: string;
  method: InstallMethod;
  steps: Step[];
}

export interface PlanWarning {
  /** The version note id (version-notes.ts) or another stable id. */
  id: string;
  /** The hop it belongs to (1-based), or undefined for the whole run. */
  hop: number | undefined;
  message: string;
  /** The install's affected items (settings, namespaces), listed for the user. */
  items: string[];
}

export interface Refusal {
  id: string;
  message: string;
  /** What to do, naming the flag. */
  fix: string;
}

export interface Plan {
  from: string;
  to: string;
  namespace: string;
  method: InstallMethod;
  environment: Environment;
  release: string | undefined;
  hops: Hop[];
  warnings: PlanWarning[];
  /** When non-empty, the plan must not run (the CLI exits 2 and lists each with its fix). */
  refusals: Refusal[];
  /** nginx-meshctl binaries the plan uses that were found on PATH, and why each was chosen (absent when all were given). */
  binaries?: { version: string; path: string; why: string }[];
  /**
   * nginx-meshctl has no --context flag: with --context, its commands get `-k path`, a private
   * kubeconfig holding only that context (its cluster and user), written 0600 for the run (and for
   * the preflight's dry runs) and removed after it; a resume writes it again.
   */
  childKubeconfig?: { path: string; context: string; kubeconfig?: string | undefined };
}
