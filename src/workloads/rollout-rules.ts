/**
 * When is a rollout complete? The same rules, and the same messages, as `kubectl rollout status`
 * (kubectl's polymorphichelpers/rollout_status.go), so users see what they already know. Pure.
 */

export type RolloutState = 'done' | 'waiting' | 'failed';

export interface RolloutStatus {
  state: RolloutState;
  message: string;
}

interface Meta {
  name?: string;
  generation?: number;
}
interface Condition {
  type?: string;
  reason?: string;
}

export interface DeploymentLike {
  metadata?: Meta;
  spec?: { replicas?: number; paused?: boolean };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}

export interface StatefulSetLike {
  metadata?: Meta;
  spec?: { replicas?: number; updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } } };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface DaemonSetLike {
  metadata?: Meta;
  spec?: { updateStrategy?: { type?: string } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

const waiting = (message: string): RolloutStatus => ({ state: 'waiting', message });

export function deploymentStatus(d: DeploymentLike): RolloutStatus {
  const name = d.metadata?.name ?? '';
  const s = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0))
    return waiting('waiting for deployment spec update to be observed');
  if (s.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) {
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  }
  const replicas = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < replicas) return waiting(`${updated} out of ${replicas} new replicas have been updated`);
  const old = (s.replicas ?? 0) - updated;
  if (old > 0) return waiting(`${old} old replicas are pending termination`);
  const available = s.availableReplicas ?? 0;
  if (available < updated) return waiting(`${available} of ${updated} updated replicas are available`);
  return { state: 'done', message: `deployment "${name}" successfully rolled out` };
}

export function statefulSetStatus(o: StatefulSetLike): RolloutStatus {
  const s = o.status ?? {};
  const strategy = o.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate')
    return { state: 'failed', message: 'rollout status is only available for RollingUpdate strategy type' };
  if (!s.observedGeneration || (o.metadata?.generation ?? 0) > s.observedGeneration)
    return waiting('waiting for statefulset spec update to be observed');
  const replicas = o.spec?.replicas ?? 1;
  const ready = s.readyReplicas ?? 0;
  if (ready < replicas) return waiting(`waiting for ${replicas - ready} pods to be ready`);
  const partition = o.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  const updated = s.updatedReplicas ?? 0;
  if (partition > 0) {
    if (updated < replicas - partition)
      return waiting(
        `waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated`,
      );
    return { state: 'done', message: `partitioned roll out complete: ${updated} new pods have been updated` };
  }
  // Partition 0 (the default): every pod must be on the update revision (the brief's stricter rule).
  if (updated < replicas || s.updateRevision !== s.currentRevision) {
    return waiting(
      `waiting for statefulset rolling update to complete ${updated} pods at revision ${s.updateRevision ?? '?'}`,
    );
  }
  return {
    state: 'done',
    message: `statefulset rolling update complete ${updated} pods at revision ${s.updateRevision ?? '?'}`,
  };
}

export function daemonSetStatus(o: DaemonSetLike): RolloutStatus {
  const name = o.metadata?.name ?? '';
  const s = o.status ?? {};
  const strategy = o.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate')
    return { state: 'failed', message: 'rollout status is only available for RollingUpdate strategy type' };
  if ((o.metadata?.generation ?? 0) > (s.observedGeneration ?? 0))
    return waiting('waiting for daemon set spec update to be observed');
  const desired = s.desiredNumberScheduled ?? 0;
  const updated = s.updatedNumberScheduled ?? 0;
  if (updated < desired) return waiting(`${updated} out of ${desired} new pods have been updated`);
  const available = s.numberAvailable ?? 0;
  if (available < desired) return waiting(`${available} of ${desired} updated pods are available`);
  return { state: 'done', message: `daemon set "${name}" successfully rolled out` };
}

export const rolloutRules = {
  Deployment: (o: unknown) => deploymentStatus(o as DeploymentLike),
  StatefulSet: (o: unknown) => statefulSetStatus(o as StatefulSetLike),
  DaemonSet: (o: unknown) => daemonSetStatus(o as DaemonSetLike),
} as const;

export type RollingKind = keyof typeof rolloutRules;

export function isRollingKind(kind: string): kind is RollingKind {
  return kind in rolloutRules;
}
