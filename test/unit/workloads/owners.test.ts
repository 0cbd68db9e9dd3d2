import { describe, expect, it } from 'vitest';
import {
  groupFacts,
  neededIntermediates,
  ownerIndex,
  podFacts,
  resolveOwner,
  type PodFacts,
} from '../../../src/workloads/owners.ts';
import type { PodLike } from '../../../src/workloads/injection.ts';
import { owned, pod } from './fixtures.ts';

const index = ownerIndex([
  owned('ReplicaSet', 'web-abc', 'shop', ['Deployment', 'web']),
  owned('ReplicaSet', 'web-def', 'shop', ['Deployment', 'web']),
  owned('ReplicaSet', 'orphan-rs', 'shop'),
  owned('Job', 'report-123', 'shop', ['CronJob', 'report']),
  owned('Job', 'once', 'shop'),
  owned('ReplicaSet', 'web-abc', 'other', ['Deployment', 'api']),
]);

describe('resolveOwner', () => {
  it.each([
    [['ReplicaSet', 'web-abc'], 'shop', { kind: 'Deployment', name: 'web' }, 'a ReplicaSet resolves to its Deployment'],
    [
      ['ReplicaSet', 'web-abc'],
      'other',
      { kind: 'Deployment', name: 'api' },
      'the same ReplicaSet name in another namespace is another owner',
    ],
    [
      ['ReplicaSet', 'orphan-rs'],
      'shop',
      { kind: 'ReplicaSet', name: 'orphan-rs' },
      'a ReplicaSet without a Deployment is the workload',
    ],
    [
      ['ReplicaSet', 'gone'],
      'shop',
      { kind: 'ReplicaSet', name: 'gone' },
      'a ReplicaSet not listed (deleted meanwhile) stays a ReplicaSet',
    ],
    [['Job', 'report-123'], 'shop', { kind: 'CronJob', name: 'report' }, 'a Job resolves to its CronJob'],
    [['Job', 'once'], 'shop', { kind: 'Job', name: 'once' }, 'a Job without a CronJob is the workload'],
    [['StatefulSet', 'db'], 'shop', { kind: 'StatefulSet', name: 'db' }, 'StatefulSets own their pods directly'],
    [['DaemonSet', 'agent'], 'shop', { kind: 'DaemonSet', name: 'agent' }, 'DaemonSets own their pods directly'],
    [undefined, 'shop', { kind: 'Pod', name: 'p' }, 'no controller: a bare pod'],
  ] as const)('%j in %s -> %j (%s)', (owner, ns, want, _reason) => {
    expect(resolveOwner(pod('p', { ns, owner: owner as [string, string] | undefined }), index)).toEqual({
      namespace: ns,
      ...want,
    });
  });

  it('follows only the controller reference', () => {
    const p = pod('p');
    p.metadata!.ownerReferences = [
      { kind: 'ConfigMap', name: 'x' },
      { kind: 'StatefulSet', name: 'db', controller: true },
    ];
    expect(resolveOwner(p, index)).toEqual({ namespace: 'shop', kind: 'StatefulSet', name: 'db' });
  });
});

/** The facts of the pods that count (as discovery keeps them page by page). */
const facts = (pods: PodLike[]): PodFacts[] => pods.map(podFacts).filter((f): f is PodFacts => f !== undefined);

describe('groupFacts', () => {
  it('groups live injected pods by workload with each pod version, sorted', () => {
    const groups = groupFacts(
      facts([
        pod('web-abc-1', { owner: ['ReplicaSet', 'web-abc'], version: '1.6.0' }),
        pod('web-def-1', { owner: ['ReplicaSet', 'web-def'], version: '1.7.0' }),
        pod('db-0', { owner: ['StatefulSet', 'db'], version: '1.7.0' }),
        pod('plain', { injected: false }),
        pod('web-abc-2', { owner: ['ReplicaSet', 'web-abc'], deleting: true }),
        pod('done', { owner: ['Job', 'once'], phase: 'Succeeded' }),
      ]),
      index,
    );
    expect(groups.map((g) => [g.kind, g.name, g.pods.map((p) => p.version)])).toEqual([
      ['Deployment', 'web', ['1.6.0', '1.7.0']],
      ['StatefulSet', 'db', ['1.7.0']],
    ]);
  });

  it('lists only the intermediate kinds the pods need', () => {
    expect([
      ...neededIntermediates(facts([pod('a', { owner: ['StatefulSet', 'x'] }), pod('b', { owner: ['Job', 'y'] })])),
    ]).toEqual(['Job']);
    expect(neededIntermediates(facts([pod('a')])).size).toBe(0);
  });

  it('keeps of a pod only what the grouping needs, and nothing of a pod that does not count', () => {
    const p = pod('web-abc-1', { owner: ['ReplicaSet', 'web-abc'], version: '1.6.0' });
    expect(podFacts(p)).toEqual({
      namespace: 'shop',
      name: 'web-abc-1',
      controller: { kind: 'ReplicaSet', name: 'web-abc' },
      version: '1.6.0',
      optedIn: false,
    });
    expect(podFacts(pod('plain', { injected: false }))).toBeUndefined();
    expect(podFacts(pod('going', { deleting: true }))).toBeUndefined();
    expect(podFacts(pod('done', { phase: 'Failed' }))).toBeUndefined();
    expect([...neededIntermediates([podFacts(p)!])]).toEqual(['ReplicaSet']);
  });
});
