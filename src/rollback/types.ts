/**
 * The rollback as data: what it is given (RollbackOptions), what it found (the upgrade run's
 * journal, the verified backup of the hop it goes back to, the cluster now: RollbackFacts), and
 * the plan the pure planner (plan.ts) builds from them. A RollbackPlan is a Plan (one hop, going
 * backwards), so it is printed, preflighted, journaled and run like an upgrade's.
 */
import type { JournalState } from '../engine/journal.ts';
import type { CommandInputs, Plan, Refusal } from '../engine/types.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import type { CrdLike } from '../engine/phases/compat.ts';

/** meshctlBinaries: the old version's deploys, the running version's removes. */
export interface RollbackOptions extends CommandInputs {
  /** The upgrade run's directory: its journal.ndjson and hop<N>/ backups. */
  from: string;
  /** Back to the version before the whole run, not only before its last hop. */
  allHops: boolean;
  /** Go back although it loses what the plan's losses name (never past a backup that fails verification). */
  force: boolean;
}

/** The upgrade run, as its journal says. */
export type UpgradeRun = Pick<JournalState, 'plan' | 'install' | 'inputs' | 'done' | 'finished' | 'runId'>;

/** The verified backup of the hop the rollback goes back to. */
export interface BackupFacts {
  hop: number;
  dir: string;
  /** Why it fails verification (a loss no --force passes); undefined when it is intact. */
  problem?: string | undefined;
  meshVersion: string | null;
  /** The Helm release as it was (both install methods leave one). */
  release: { name: string; revision: number; chartVersion: string | null; appVersion: string | null } | null;
  /** Its user-supplied values, credentials as Secret: the old mesh's settings. */
  values: Record<string, unknown> | undefined;
  /** The mesh CRDs as they were. */
  crds: CrdLike[];
  /** The workloads that had a sidecar when the backup was taken (the upgrade journaled them). */
  injected: WorkloadRef[];
}

/** A list of objects ("Kind namespace/name"), cut to a sample to keep the journal small. */
export interface ObjectList {
  count: number;
  sample: string[];
}

/** The cluster when the rollback was planned (journaled: --resume plans from these, not from the cluster then). */
export interface LiveFacts {
  /** The control plane's version now; undefined when no mesh is installed. */
  version: string | undefined;
  release: string | undefined;
  releaseStatus: string | undefined;
  /** The release's values equal the backup's. */
  valuesMatchBackup: boolean;
  /**
   * The revisions Helm still records that hold the backed-up release (its chart version and values):
   * a number alone is not enough, an uninstall and install start the count again.
   */
  restorableRevisions: number[];
  /** How the mesh CRDs differ from the backup's (empty: not at all). */
  crdChanges: string[];
  /** Objects the backup does not hold that the old CRDs cannot hold, and why. */
  incompatible: { object: string; why: string }[];
  /** Objects changed, deleted and created since the backup. */
  changed: ObjectList;
  deleted: ObjectList;
  created: ObjectList;
  /** Changes to 2.0's MeshConfig nginx-mesh-config since the hop (rollbacks from 2.0 to 1.x). */
  meshConfig: { carried: Record<string, unknown>; noSetting: string[] };
}

export interface RollbackFacts {
  run: UpgradeRun;
  /** Undefined when the run has no hop to roll back. */
  backup: BackupFacts | undefined;
  live: LiveFacts;
}

/** How the control plane goes back. */
export type RollbackPath = 'meshctl-redeploy' | 'helm-rollback' | 'helm-reinstall' | 'already-back';

export interface RollbackPlan extends Plan {
  rollback: {
    /** The upgrade run's directory. */
    source: string;
    /** The upgrade run rolled back (its lease may be taken over when it was killed). */
    upgradeRunId: string;
    /** The hop whose backup the rollback goes back to. */
    hop: number;
    allHops: boolean;
    path: RollbackPath;
    /** What going back would lose: the run is refused (exit 3) unless --force passes them all. */
    losses: (Refusal & { forceable: boolean })[];
    /** Losses --force passed. */
    forced: boolean;
  };
}

/** The rollback's own directory inside the run's: its journal, the snapshot, the files its commands read. */
export function rollbackDir(from: string): string {
  return `${from.replace(/\/+$/, '')}/rollback`;
}
