/**
 * The command line of one cluster's run, pure: the single-cluster upgrade users know, with the
 * fleet's settings for that cluster, its own backup/journal directory in the fleet directory, no
 * question asked (the fleet asked once) and JSON events (they drive its task group). A resumed
 * fleet builds it again from the fleet's inputs, never from a command line on disk; the cluster's
 * own --resume then checks its journal.
 */
import path from 'node:path';
import type { FleetCluster } from './types.ts';
import type { StepTimeout, UpgradeChoices } from '../engine/option-groups.ts';

/** What every cluster's run of a fleet shares: the upgrade's target and labelling choice, the step timeout, and the fleet's own settings. */
export interface ClusterRunSettings extends Pick<UpgradeChoices, 'to' | 'labelNamespaces'>, StepTimeout {
  fleetDir: string;
  /** `stop` is the upgrade's default and is not passed; `rollback` needs the upgrade's --on-failure. */
  onFailure: 'stop' | 'rollback';
  verbose: number;
}

export function clusterBackupDir(fleetDir: string, c: Pick<FleetCluster, 'dir'>): string {
  return path.join(path.resolve(fleetDir), c.dir);
}

/** The arguments after the tool's own command (`kubectl nsm-upgrade`). */
export function clusterRunArgs(c: FleetCluster, s: ClusterRunSettings, resume: boolean): string[] {
  const dir = clusterBackupDir(s.fleetDir, c);
  const opt = (flag: string, v: string | undefined) => (v === undefined ? [] : [flag, v]);
  return [
    ...(resume ? ['--resume', dir] : ['--backup-dir', dir]),
    '--to',
    s.to,
    '--context',
    c.context,
    ...opt('--kubeconfig', c.kubeconfig),
    '--mesh-namespace',
    c.meshNamespace,
    ...(c.method !== 'auto' ? ['--method', c.method] : []),
    ...(c.strategy !== 'auto' ? ['--strategy', c.strategy] : []),
    ...c.meshctl.flatMap((m) => ['--meshctl', m]),
    ...opt('--meshctl-current', c.meshctlCurrent),
    ...opt('--helm', c.helm),
    ...(resume ? [] : opt('--release', c.release)),
    ...opt('--chart', c.chart),
    ...(s.labelNamespaces ? ['--label-namespaces'] : []),
    ...(s.onFailure !== 'stop' ? ['--on-failure', s.onFailure] : []),
    '--timeout',
    s.timeout,
    '--yes',
    '-o',
    'json',
    ...(s.verbose > 0 ? ['-v'] : []),
  ];
}
