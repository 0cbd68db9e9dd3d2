import type { StepKind } from './types.ts';

/**
 * What the cluster looks like once a step is done, for the message of a run that stops after it
 * (the user must know whether the mesh is up, and where the custom resources are). Data, by step.
 */
const afterStep: Record<StepKind, string> = {
  backup: 'Nothing in the cluster was changed yet; the backup is written and verified.',
  'clean-leftovers':
    'Leftovers of earlier removals were cleared (listed in the journal); the mesh itself is unchanged.',
  'label-namespaces': 'Namespaces were labelled for 2.0 injection; the mesh itself is unchanged.',
  'apply-crds': "The target version's CRDs are applied; the control plane still runs the old version.",
  upgrade: 'The control plane runs the new version; workloads may still run old sidecars.',
  remove: 'The mesh is REMOVED: no control plane runs, and the custom resources exist only in the backup.',
  'delete-crds': 'The mesh is REMOVED with its CRDs: the custom resources exist only in the backup.',
  'restart-unmeshed':
    'The mesh is REMOVED and workloads run without sidecars; the custom resources exist only in the backup.',
  'wait-sentinel':
    'The mesh is REMOVED and the CSI sentinel has finished; the custom resources exist only in the backup.',
  deploy: 'The new control plane is deployed, but the custom resources are NOT restored yet (they are in the backup).',
  restore: 'The new control plane runs with the custom resources restored; workloads may still run old sidecars.',
  restart: 'The new control plane runs, resources restored, workloads restarted; the final check has not run.',
  verify: 'This hop is complete.',
  snapshot: 'Nothing was undone yet; the resources as they are now are backed up for the rollback.',
  'helm-rollback': 'The Helm release is back on the old revision; CRDs and resources are not restored yet.',
  'restore-crds': 'The old control plane runs with the CRDs as backed up; the resources are not restored yet.',
  'restore-resources':
    'The old control plane runs with the resources restored; workloads may still run the newer sidecars.',
  'verify-rollback': 'The rollback is complete.',
};

/** The sentence for the last finished step (undefined kind: nothing done yet). */
export function clusterStateAfter(kind: StepKind | undefined): string {
  return kind ? afterStep[kind] : 'Nothing in the cluster was changed yet.';
}
