/**
 * The plan as data (ARCHITECTURE.md, "How data flows through an upgrade"): Install + PlanOptions -> Plan.
 * plan.ts builds it without I/O; the executor (steps.ts/run.ts) walks `hops[].steps[]` in order,
 * journaling each step by its stable id; `plan` and `--dry-run` print it.
 */
import type { Command } from '../exec/runner.ts';
import type { Install, InstallMethod } from '../mesh/detect.ts';
import type { Environment } from '../mesh/version-notes.ts';
import type { Arg, Secret } from '../secret.ts';
import type { ChartRef } from '../controlplane/helm.ts';
import type { Leftover } from '../leftovers/types.ts';

export type { Install, InstallMethod, Environment, Command };

export type Strategy = 'in-place' | 'manual';

/** An image a hop's target runs, and where its manifests use it (src/images/manifest-images.ts reads them). */
export interface ImageUse {
  image: string;
  /** Where the manifests use it, sorted. */
  uses: string[];
}

/** The images a hop's target runs (src/images/hop-images.ts). */
export interface HopImages {
  /** What the list was read from. */
  source: string;
  images: ImageUse[];
  /** Why there is no list (the image check then warns, or refuses with --require-images). */
  problem?: string;
}
export type StrategyOption = 'auto' | Strategy;

/** Where the helm path finds the chart of each hop. */
export type ChartSource =
  /** A repository chart ("nginx-stable/nginx-service-mesh"), one `--version` per hop. */
  | { kind: 'repo'; ref: string }
  /** A directory with one chart per version: `<dir>/<version>/Chart.yaml` (the fixture layout). */
  | { kind: 'versioned-dir'; dir: string }
  /** One local chart (directory or .tgz): usable only for a single hop to its version. */
  | { kind: 'path'; path: string; version: string };

/** The binaries and chart a plan's commands use, and how they reach the cluster (an upgrade's and a rollback's). */
export interface CommandInputs {
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
  /** Per-step timeout as given on the command line ("10m"), passed to nginx-meshctl and helm. */
  timeout: string;
  /**
   * The kubeconfig context the run acts on: --context, else the kubeconfig's current context when the
   * run started (a resume keeps its run's). helm and nginx-meshctl get exactly it (childKubeconfig).
   */
  context?: string | undefined;
}

export interface PlanOptions extends CommandInputs {
  /** Target version (normalized or not: "1.7", "v1.7.0"). */
  to: string;
  strategy: StrategyOption;
  /** Deploy settings the user changes (meshctl flag names without dashes -> value): forces manual. */
  deployFlagChanges: Readonly<Record<string, Arg>>;
  /** --label-namespaces: label the namespaces below before a hop to 2.0. */
  labelNamespaces: boolean;
  /** Namespaces with injected workloads that lack injector.nsm.nginx.com/auto-inject=enabled (computed by the caller). */
  unlabelledInjectedNamespaces: readonly string[];
  /** The run's backup directory; hop N backs up into `<backupDir>/hopN`. */
  backupDir: string;
  /** What earlier removals left that a redeploy trips over, found when planning (leftovers.ts). */
  leftovers?: readonly Leftover[] | undefined;
  /** --clean-leftovers: clear them in step hop1.clean-leftovers, after the backup (else preflight refuses). */
  cleanLeftovers?: boolean | undefined;
  /** --accept-pruning: objects losing fields a target's CRD schema does not declare do not refuse the run; the restore drops those fields. */
  acceptPruning?: boolean | undefined;
  /** --delete-foreign-objects: the removal may delete objects of the mesh namespace that are not the mesh's (foreign-objects.ts). */
  deleteForeignObjects?: boolean | undefined;
}

/**
 * A plan step: one member of a union per kind, each with its own typed parameters (the compiler
 * links hop-steps.ts, which fills them, to steps.ts, which reads them). Every step has a stable
 * id `hop<N>.<kind>`, journaled when done. Secret values (a registry password) are Secret objects
 * inside params and commands: the journal and every printer show `<redacted>`.
 */
interface StepBase<K extends string, P> {
  /** Stable id: `hop1.backup`, `hop2.upgrade`, ... Journaled when done. */
  id: `hop${number}.${K}`;
  kind: K;
  title: string;
  /** Deletes or replaces something (the confirmation prompt comes before the first one). */
  destructive: boolean;
  /** Changes the cluster (skipped in --dry-run); false for backup, wait and verify. */
  writes: boolean;
  /** The external commands this step runs, exactly, in order (empty when it works through the API). */
  commands: Command[];
  params: P;
}

/** A file a step writes (0600, in the backup directory) before its commands run: Helm values, a registry key. */
export interface StepFile {
  path: string;
  /** YAML of these values (Secrets revealed only in the file), or a secret's text. */
  content: { values: Record<string, unknown> } | { secret: Secret };
}

/** The part-of label selector of the mesh CRDs. */
export interface CrdSelector {
  labelSelector: string;
}

export type BackupStep = StepBase<'backup', { dir: string; namespace: string; meshVersion: string }>;
/** --clean-leftovers: clear what earlier removals left (leftovers.ts); `found` is what the plan saw, the step clears what it finds. */
export type CleanLeftoversStep = StepBase<'clean-leftovers', { namespace: string; found: Leftover[] }>;
/** Add the 2.0 opt-in label to namespaces (a rollback removes what the upgrade added: null). */
export type LabelNamespacesStep = StepBase<
  'label-namespaces',
  { namespaces: string[]; label: Record<string, string | null> }
>;
/** Helm in place: apply the target chart's CRDs through the API (Helm does not upgrade them). */
export type ApplyCrdsStep = StepBase<'apply-crds', CrdSelector & { chart: ChartRef; version: string }>;
/** In place: nginx-meshctl upgrade / helm upgrade. */
export type UpgradeStep = StepBase<'upgrade', { version: string; release: string; chart?: ChartRef }>;
/** Manual: nginx-meshctl remove (old binary) / helm uninstall. */
export type RemoveStep = StepBase<'remove', { release: string; version?: string }>;
/** Manual helm: delete the CRDs labelled part-of=nginx-service-mesh (helm uninstall leaves them). */
export type DeleteCrdsStep = StepBase<'delete-crds', CrdSelector>;
/** OpenShift manual: restart injected workloads so no pod keeps a sidecar. */
export type RestartUnmeshedStep = StepBase<'restart-unmeshed', { reason: 'openshift-sentinel' }>;
/** OpenShift manual: wait until Job csi-driver-sentinel is deleted. */
export type WaitSentinelStep = StepBase<'wait-sentinel', { namespace: string; job: string }>;
/** Manual: nginx-meshctl deploy (new binary) / helm install with the carried-over values. */
export type DeployStep = StepBase<
  'deploy',
  {
    version: string;
    release?: string;
    chart?: ChartRef;
    /** Written 0600 before the deploy runs (Helm's values file, a registry key file). */
    files: StepFile[];
    /** How --resume removes a half-installed release of this deploy before deploying again (deploy-health.ts). */
    undo: Command;
    /** Chart value path -> value the redeployed mesh must hold (verify checks them). */
    expect: Record<string, unknown>;
  }
>;
/** Manual: re-create the backed-up custom resources. */
export type RestoreStep = StepBase<'restore', { from: string; targetVersion: string }>;
/**
 * Restart injected workloads onto the hop's sidecars (and, after an OpenShift removal, back into
 * the mesh). `injected`: the workloads that had a sidecar before; an upgrade's hop reads them from
 * its backup step's output, a rollback names them (the upgrade's backup recorded them).
 */
export type RestartStep = StepBase<
  'restart',
  { targetVersion: string; injected?: { namespace: string; kind: string; name: string }[] }
>;
/** Control plane on the hop's version, custom resources equal to the backup, sidecars converged. */
export type VerifyStep = StepBase<'verify', { version: string; namespace: string; deployment: string; backup: string }>;

/*
 * Rollback steps (src/rollback/: plan.ts fills them, steps.ts runs them). A rollback also reuses
 * remove, delete-crds, restart-unmeshed, wait-sentinel, deploy and restart, with the hop going backwards.
 */
/** Rollback: back up the mesh's resources as they are now, before anything is undone (objects created since the upgrade come back from here). */
export type SnapshotStep = StepBase<'snapshot', { dir: string; namespace: string; meshVersion: string }>;
/** Rollback, Helm: `helm rollback RELEASE REVISION` to the revision recorded before the hop. */
export type HelmRollbackStep = StepBase<'helm-rollback', { release: string; revision: number; version: string }>;
/** Rollback: the mesh CRDs made exactly as in the backup's crds.yaml (created, replaced, and the ones it lacks deleted). */
export type RestoreCrdsStep = StepBase<'restore-crds', CrdSelector & { from: string }>;
/** Rollback: the snapshot's objects the old CRDs can hold, then every backed-up object exactly as backed up (overwrite). */
export type RestoreResourcesStep = StepBase<
  'restore-resources',
  { from: string; snapshot: string; kinds: string[]; targetVersion: string }
>;
/** Rollback: control plane, CRDs, resources, release values and sidecars as before the upgrade. */
export type VerifyRollbackStep = StepBase<
  'verify-rollback',
  {
    version: string;
    namespace: string;
    backup: string;
    release: string;
    /** Chart value path -> value the release must hold (the backup's values, plus MeshConfig changes carried back). */
    values: Record<string, unknown>;
    injected: { namespace: string; kind: string; name: string }[];
  }
>;
export type RollbackStep =
  SnapshotStep | HelmRollbackStep | RestoreCrdsStep | RestoreResourcesStep | VerifyRollbackStep;

export type Step =
  | BackupStep
  | CleanLeftoversStep
  | LabelNamespacesStep
  | ApplyCrdsStep
  | UpgradeStep
  | RemoveStep
  | DeleteCrdsStep
  | RestartUnmeshedStep
  | WaitSentinelStep
  | DeployStep
  | RestoreStep
  | RestartStep
  | VerifyStep
  | RollbackStep;
export type StepKind = Step['kind'];
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;
/** A step's stable id, as journaled. */
export type StepId = Step['id'];

/** A step that reports nothing beyond done. */
export type NoOutput = Record<string, never>;
/** What a restart of the injected workloads reports. */
export type RestartOutput = {
  restarted?: number;
  restartedIntoMesh?: number;
  converged?: boolean;
  byVersion?: Record<string, number>;
  stoppedAtGate?: true;
  notStarted?: number;
};
/** What a verify reports. */
export type VerifyOutput = { controlPlane: string | null; byVersion: Record<string, number>; objects: number };

/**
 * What each step kind reports when done: journaled with its step record, read back by later steps
 * and by a resume (step-context.ts `outputOf`) — typed here, so nothing reads a step's data with a cast.
 */
export type StepOutputs = {
  backup: {
    objects: number;
    kinds: Record<string, number>;
    absent: string[];
    injected: { namespace: string; kind: string; name: string }[];
    manifestSha256: string;
    schemas?: Record<string, number>;
  };
  'clean-leftovers': { cleared: string[] };
  'label-namespaces': NoOutput;
  'apply-crds': { crds: string[] };
  upgrade: NoOutput;
  remove: { cleaned?: string; warning?: string };
  'delete-crds': { crds: string[] };
  'restart-unmeshed': { restarted: number };
  'wait-sentinel': { waitedMs: number; existed: boolean };
  deploy: { redeployed?: string; cleared?: string[] };
  /** lastCreatedAt: the newest creationTimestamp of an object it created (the end of the policy gap: window.ts). */
  restore: { objects: number; counts: Record<string, number>; lastCreatedAt?: string | null };
  restart: RestartOutput;
  verify: VerifyOutput;
  snapshot: { objects: number; kinds: Record<string, number> };
  'helm-rollback': NoOutput;
  'restore-crds': { changed: string[] };
  'restore-resources': { objects: number; counts: Record<string, number>; kept: number; lastCreatedAt?: string | null };
  'verify-rollback': VerifyOutput;
};

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
  /** Every setting of the install before and after this hop, with its fate (setting-fates.ts). */
  settings?: SettingRow[];
  /** The images the hop's target runs (src/images/hop-images.ts); not part of what a resume compares. */
  images?: HopImages | undefined;
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
  /** Leftovers of earlier removals found when planning: preflight refuses them unless hop1.clean-leftovers clears them. */
  leftovers?: Leftover[];
  /** --accept-pruning (schema-report.ts): losses the preflight lists are accepted; the restore prunes them. */
  acceptPruning?: true;
  /** --delete-foreign-objects (foreign-objects.ts): objects of the mesh namespace that are not the mesh's do not refuse the run. */
  deleteForeignObjects?: true;
  /** nginx-meshctl binaries the plan uses that were found on PATH, and why each was chosen (absent when all were given). */
  binaries?: { version: string; path: string; why: string }[];
  /**
   * Every helm and nginx-meshctl command gets `path`, a private kubeconfig holding only the run's
   * context (its cluster and user, as the tool loaded them at start), written 0600 for the run (and
   * for the preflight's dry runs) and removed after it; a resume writes it again. helm also gets
   * `--kube-context context`; nginx-meshctl has no such flag.
   */
  childKubeconfig?: { path: string; context?: string | undefined };
}

/** What happens to one setting of the install in a hop (upgrade/setting-fates.ts decides it). */
export type SettingFate = 'carried' | 'changed' | 'default-changed' | 'dropped' | 'needs-input';

export interface SettingRow {
  /** The chart value, as a dotted path (or a behaviour, for a default change: "sidecar injection"). */
  path: string;
  /** The nginx-meshctl deploy flag that sets it, when there is one. */
  flag?: string;
  /** The value before the hop (the release's), or the old default's description. */
  before: unknown;
  /** The value after the hop; undefined when dropped or waiting for input. */
  after?: unknown;
  fate: SettingFate;
  reason: string;
  /** Carried at the chart's default (the text shows these on one line). */
  atDefault?: true;
}
