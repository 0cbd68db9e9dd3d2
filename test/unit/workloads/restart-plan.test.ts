import { describe, expect, it } from 'vitest';
import { parseWorkloadRef } from '../../../src/cli/options.ts';
import type { InjectedWorkload } from '../../../src/workloads/owners.ts';
import {
  orderForRollout,
  orderForSlowStart,
  planRestart,
  restartPatch,
  rfc3339,
  skipReason,
} from '../../../src/workloads/restart-plan.ts';

const w = (kind: string, name: string, versions: string[]): InjectedWorkload => ({
  namespace: 'shop',
  kind,
  name,
  pods: versions.map((version, i) => ({ name: `${name}-${i}`, version, optedIn: false })),
});

describe('skipReason', () => {
  const ref = (kind: string) => ({ namespace: 'shop', kind, name: 'x' });
  it.each([
    ['Deployment', {}, false, undefined, 'a running Deployment is restarted'],
    [
      'Deployment',
      { spec: { paused: true } },
      false,
      'kubectl rollout resume deployment/x -n shop',
      'kubectl refuses to restart a paused Deployment',
    ],
    ['Deployment', undefined, false, 'not found', 'deleted between the pod list and the workload list'],
    [
      'StatefulSet',
      { spec: { updateStrategy: { type: 'OnDelete' } } },
      false,
      'OnDelete: delete its pods',
      'the controller only replaces deleted pods',
    ],
    [
      'StatefulSet',
      { spec: { updateStrategy: { type: 'RollingUpdate' } } },
      false,
      undefined,
      'RollingUpdate StatefulSets roll',
    ],
    ['DaemonSet', { spec: { updateStrategy: { type: 'OnDelete' } } }, false, 'OnDelete', 'same for DaemonSets'],
    ['Job', undefined, false, 'Job pods are not restarted', 'a Job runs to completion'],
    ['CronJob', undefined, false, 'next run', 'the next Job gets the new sidecar'],
    ['Pod', undefined, false, '--delete-bare-pods', 'bare pods are never deleted unless asked'],
    ['Pod', undefined, true, undefined, 'asked to delete bare pods'],
    [
      'ReplicaSet',
      undefined,
      false,
      'owned by a ReplicaSet',
      'a ReplicaSet without a Deployment has no restart annotation',
    ],
  ])('%s %j deleteBarePods=%s -> %s (%s)', (kind, obj, del, want, _reason) => {
    const r = skipReason(ref(kind), obj, del);
    if (want === undefined) expect(r).toBeUndefined();
    else expect(r).toContain(want);
  });
});

describe('planRestart', () => {
  const workloads = [
    w('Deployment', 'old', ['1.6.0', '1.6.0']),
    w('Deployment', 'mixed', ['1.6.0', '1.7.0']),
    w('Deployment', 'new', ['1.7.0']),
    w('Deployment', 'paused', ['1.6.0']),
    w('StatefulSet', 'db', ['1.6.0']),
    w('Pod', 'bare', ['1.6.0']),
  ];
  const objects = new Map<string, object>([
    ['shop/Deployment/old', {}],
    ['shop/Deployment/mixed', {}],
    ['shop/Deployment/new', {}],
    ['shop/Deployment/paused', { spec: { paused: true } }],
    ['shop/StatefulSet/db', { spec: { updateStrategy: { type: 'RollingUpdate' } } }],
  ]);

  it('mode behind restarts only workloads with a pod off the target, and reports the rest', () => {
    const p = planRestart({ workloads, objects, mode: 'behind', targetVersion: '1.7.0', deleteBarePods: false });
    // the smallest first (the slow start's canary: the StatefulSet's 1 pod), then longest rollout first: old and mixed have 2 pods (2 rounds)
    expect(p.targets.map((t) => `${t.kind}/${t.name}:${t.action}:${t.pods}`)).toEqual([
      'StatefulSet/db:restart:1',
      'Deployment/old:restart:2',
      'Deployment/mixed:restart:2',
    ]);
    expect(p.skipped.map((s) => s.name)).toEqual(['paused', 'bare']);
    expect(p.upToDate).toBe(1);
  });

  it('mode all restarts up-to-date workloads too, and deletes bare pods when asked', () => {
    const p = planRestart({ workloads, objects, mode: 'all', targetVersion: '1.7.0', deleteBarePods: true });
    // the canary: of the 1-pod workloads that roll, the first by key (a bare pod never is one); bare pods last: an eviction is instant
    expect(p.targets.map((t) => t.name)).toEqual(['new', 'old', 'mixed', 'db', 'bare']);
    expect(p.targets.at(-1)!.action).toBe('evict-pod');
    expect(p.upToDate).toBe(0);
  });
});

describe('orderForRollout', () => {
  const t = (kind: string, name: string, pods: number) => ({ namespace: 'shop', kind, name, pods });
  it('starts the longest rollouts first and keeps plan order among equals', () => {
    const order = orderForRollout([
      t('Deployment', 'web-1', 1), // 1 round
      t('Deployment', 'web-20', 20), // maxSurge 5: 4 rounds
      t('StatefulSet', 'db', 5), // one pod at a time: 5 rounds
      t('Pod', 'bare', 1), // a delete: 0 rounds
      t('DaemonSet', 'agent', 2), // one node at a time: 2 rounds
      t('Deployment', 'web-2', 1), // 1 round, after web-1 (stable)
    ]);
    expect(order.map((x) => x.name)).toEqual(['db', 'web-20', 'agent', 'web-1', 'web-2', 'bare']);
  });
});

describe('restartPatch', () => {
  it('sets kubectl.kubernetes.io/restartedAt in RFC 3339 without fractions, as kubectl does', () => {
    const at = Date.UTC(2026, 10, 22, 1, 2, 3, 456);
    expect(rfc3339(at)).toBe('2026-11-22T01:02:03Z');
    expect(restartPatch(at)).toEqual({
      spec: {
        template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-22T01:02:03Z' } } },
      },
    });
  });
});

describe('orderForSlowStart', () => {
  const t = (kind: string, name: string, pods: number) => ({ namespace: 'shop', kind, name, pods });
  const targets = [
    t('Deployment', 'web-20', 20),
    t('StatefulSet', 'db', 5),
    t('Pod', 'bare', 1),
    t('Deployment', 'web-3', 3),
    t('Deployment', 'web-2', 2),
  ];
  it('starts with the smallest workload that rolls (never a bare pod), then longest rollout first', () => {
    expect(orderForSlowStart(targets).map((x) => x.name)).toEqual(['web-2', 'db', 'web-20', 'web-3', 'bare']);
  });
  it('starts with the workload --first names', () => {
    expect(
      orderForSlowStart(targets, { namespace: 'shop', kind: 'StatefulSet', name: 'db' }).map((x) => x.name),
    ).toEqual(['db', 'web-20', 'web-3', 'web-2', 'bare']);
  });
  it('refuses a --first that is not among the targets (exit 2)', () => {
    expect(() => orderForSlowStart(targets, { namespace: 'shop', kind: 'Deployment', name: 'gone' })).toThrow(
      /--first shop\/Deployment\/gone is not among the workloads/,
    );
  });
  it('parses NAMESPACE/KIND/NAME with the kind in any case', () => {
    expect(parseWorkloadRef('shop/deployment/cart')).toEqual({ namespace: 'shop', kind: 'Deployment', name: 'cart' });
    expect(parseWorkloadRef('shop/StatefulSet/db')).toEqual({ namespace: 'shop', kind: 'StatefulSet', name: 'db' });
    expect(parseWorkloadRef('shop/cart')).toBeUndefined();
    expect(parseWorkloadRef('shop/job/x')).toBeUndefined();
  });
});
