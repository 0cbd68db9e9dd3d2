import { describe, expect, it } from 'vitest';
import { daemonSetStatus, deploymentStatus, statefulSetStatus } from '../../../src/workloads/rollout-rules.ts';

// Each row: the object's generation/spec/status, the state kubectl rollout status reaches, and why.
describe('deploymentStatus (kubectl rollout status rules)', () => {
  const d = (generation: number, status: Record<string, unknown>, replicas = 3) => ({
    metadata: { name: 'web', generation },
    spec: { replicas },
    status,
  });
  it.each([
    [
      d(2, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      'waiting',
      'spec update to be observed',
      'the controller has not seen the restart yet',
    ],
    [
      d(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
      'waiting',
      '1 out of 3 new replicas have been updated',
      'new ReplicaSet still scaling up',
    ],
    [
      d(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
      'waiting',
      '1 old replicas are pending termination',
      'an old pod remains',
    ],
    [
      d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      'waiting',
      '2 of 3 updated replicas are available',
      'a new pod is not ready',
    ],
    [
      d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      'done',
      'successfully rolled out',
      'all new, all available, no old',
    ],
    [
      d(2, { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      'done',
      'successfully rolled out',
      'observedGeneration ahead is fine (>=)',
    ],
    [
      d(1, { observedGeneration: 1, replicas: 0, updatedReplicas: 0, availableReplicas: 0 }, 0),
      'done',
      'successfully rolled out',
      'scaled to zero',
    ],
    [
      d(2, { observedGeneration: 2, conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] }),
      'failed',
      'exceeded its progress deadline',
      'kubectl fails on the progress deadline',
    ],
  ])('%# -> %s (%s; %s)', (obj, state, message) => {
    const r = deploymentStatus(obj);
    expect(r.state).toBe(state);
    expect(r.message).toContain(message);
  });
});

describe('statefulSetStatus', () => {
  const s = (
    status: Record<string, unknown>,
    strategy: Record<string, unknown> = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    generation = 2,
  ) => ({ metadata: { name: 'db', generation }, spec: { replicas: 2, updateStrategy: strategy }, status });
  const full = {
    observedGeneration: 2,
    readyReplicas: 2,
    updatedReplicas: 2,
    currentRevision: 'db-2',
    updateRevision: 'db-2',
  };
  it.each([
    [
      s({ ...full, observedGeneration: 0 }),
      'waiting',
      'spec update to be observed',
      'observedGeneration 0 is never done',
    ],
    [s({ ...full, observedGeneration: 1 }), 'waiting', 'spec update to be observed', 'generation not observed'],
    [s({ ...full, readyReplicas: 1 }), 'waiting', 'waiting for 1 pods to be ready', 'readyReplicas below replicas'],
    [
      s({ ...full, currentRevision: 'db-1' }),
      'waiting',
      'rolling update to complete',
      'revisions differ: old pods remain',
    ],
    [s({ ...full, updatedReplicas: 1 }), 'waiting', 'rolling update to complete', 'not every pod updated'],
    [s(full), 'done', 'rolling update complete 2 pods at revision db-2', 'all ready, one revision'],
    [
      s(
        { ...full, updatedReplicas: 0, currentRevision: 'db-1' },
        { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      ),
      'done',
      'partitioned roll out complete',
      'partition = replicas: nothing to update',
    ],
    [
      s({ ...full, updatedReplicas: 0 }, { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }),
      'waiting',
      '0 out of 1 new pods',
      'partition 1 of 2: one pod must update',
    ],
    [
      s(full, { type: 'OnDelete' }),
      'failed',
      'only available for RollingUpdate',
      'OnDelete has no rollout to wait for',
    ],
  ])('%# -> %s (%s; %s)', (obj, state, message) => {
    const r = statefulSetStatus(obj);
    expect(r.state).toBe(state);
    expect(r.message).toContain(message);
  });
});

describe('daemonSetStatus', () => {
  const ds = (status: Record<string, unknown>, type = 'RollingUpdate') => ({
    metadata: { name: 'agent', generation: 3 },
    spec: { updateStrategy: { type } },
    status,
  });
  it.each([
    [
      ds({ observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 }),
      'waiting',
      'spec update to be observed',
      'generation not observed',
    ],
    [
      ds({ observedGeneration: 3, desiredNumberScheduled: 2, updatedNumberScheduled: 1, numberAvailable: 2 }),
      'waiting',
      '1 out of 2 new pods have been updated',
      'one node still on the old pod',
    ],
    [
      ds({ observedGeneration: 3, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 }),
      'waiting',
      '1 of 2 updated pods are available',
      'a new pod not available',
    ],
    [
      ds({ observedGeneration: 3, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 }),
      'done',
      'successfully rolled out',
      'every node updated and available',
    ],
    [ds({}, 'OnDelete'), 'failed', 'only available for RollingUpdate', 'OnDelete has no rollout to wait for'],
  ])('%# -> %s (%s; %s)', (obj, state, message) => {
    const r = daemonSetStatus(obj);
    expect(r.state).toBe(state);
    expect(r.message).toContain(message);
  });
});
