/**
 * A CRD whose deletion the API server stalled on (its cleanup's list failed: "storage is (re)initializing")
 * is touched so the server's cleanup tries again; nothing else is (kube/crd-deletion.ts).
 */
import { describe, expect, it } from 'vitest';
import { KubeApiError, type Kube, type KubeRequest } from '../../../src/kube/client.ts';
import {
  crdDeletionNudger,
  deletionRetryAnnotation,
  stalledDeletion,
  type DeletingCrd,
} from '../../../src/kube/crd-deletion.ts';

const stalled = 'could not list instances: storage is (re)initializing';
const crd = (name: string, opts: { deleting?: boolean; reason?: string; status?: string } = {}): DeletingCrd => ({
  metadata: { name, ...(opts.deleting === false ? {} : { deletionTimestamp: '2026-12-08T00:00:00Z' }) },
  status: {
    conditions: [
      { type: 'Established', status: 'True' },
      ...(opts.reason
        ? [{ type: 'Terminating', status: opts.status ?? 'True', reason: opts.reason, message: stalled }]
        : []),
    ],
  },
});

function fake(fail: (path: string) => KubeApiError | undefined = () => undefined) {
  const requests: KubeRequest[] = [];
  let now = 1_000_000;
  const kube = {
    async request<T>(req: KubeRequest): Promise<T> {
      requests.push(req);
      const err = fail(req.path);
      if (err) throw err;
      return {} as T;
    },
  } as unknown as Kube;
  const clock = { now: () => now, sleep: async () => {} };
  return { deps: { kube, clock }, requests, advance: (ms: number) => (now += ms) };
}

describe('a stalled CRD deletion', () => {
  it('is one being deleted whose cleanup failed; in progress, done or not deleted is not', () => {
    expect(stalledDeletion(crd('a', { reason: 'InstanceDeletionFailed' }))).toBe(stalled);
    expect(stalledDeletion(crd('a', { reason: 'InstanceDeletionInProgress' }))).toBeUndefined();
    expect(stalledDeletion(crd('a', { reason: 'InstanceDeletionFailed', status: 'False' }))).toBeUndefined();
    expect(stalledDeletion(crd('a', { reason: 'InstanceDeletionFailed', deleting: false }))).toBeUndefined();
    expect(stalledDeletion(crd('a'))).toBeUndefined();
  });

  it('is touched (an annotation with the time), said once per touch, at most every 5 s per CRD', async () => {
    const f = fake();
    const lines: string[] = [];
    const nudge = crdDeletionNudger(f.deps, (l) => lines.push(l));
    const seen = [crd('a', { reason: 'InstanceDeletionFailed' }), crd('b', { reason: 'InstanceDeletionInProgress' })];
    await nudge(seen);
    expect(f.requests).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a',
        body: { metadata: { annotations: { [deletionRetryAnnotation]: new Date(1_000_000).toISOString() } } },
      },
    ]);
    expect(lines).toEqual([
      `CRD a: the API server's cleanup of it failed (${stalled}); touched it so the server retries`,
    ]);
    f.advance(4999);
    await nudge(seen);
    expect(f.requests).toHaveLength(1);
    f.advance(1);
    await nudge(seen);
    expect(f.requests).toHaveLength(2);
  });

  it('skips a CRD gone meanwhile; a refusal (403) is said once and nothing more is asked', async () => {
    const gone = fake(() => new KubeApiError(404, 'x', { reason: 'NotFound' }));
    const lines: string[] = [];
    await crdDeletionNudger(gone.deps, (l) => lines.push(l))([crd('a', { reason: 'InstanceDeletionFailed' })]);
    expect(lines).toEqual([]);

    const refused = fake(() => new KubeApiError(403, 'x', { reason: 'Forbidden' }));
    const nudge = crdDeletionNudger(refused.deps, (l) => lines.push(l));
    const two = [crd('a', { reason: 'InstanceDeletionFailed' }), crd('b', { reason: 'InstanceDeletionFailed' })];
    await nudge(two);
    refused.advance(60_000);
    await nudge(two);
    expect(refused.requests).toHaveLength(1);
    expect(lines).toEqual([
      `CRD a: the API server's cleanup of it failed (${stalled}); not allowed to touch it so the server retries: waiting`,
    ]);
  });

  it('passes on any other error: the wait it serves fails with it', async () => {
    const f = fake(() => new KubeApiError(500, 'x', { reason: 'InternalError' }));
    await expect(crdDeletionNudger(f.deps)([crd('a', { reason: 'InstanceDeletionFailed' })])).rejects.toThrow();
  });
});
