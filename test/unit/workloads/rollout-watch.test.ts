import { describe, expect, it } from 'vitest';
import type { Kube, KubeRequest, Query, WatchEvent } from '../../../src/kube/client.ts';
import { createRolloutWatcher } from '../../../src/workloads/rollout-watch.ts';
import { flush, manualClock } from '../../support/manual-clock.ts';

/**
 * A kube whose list answers from `lists` (one per call, the last repeated) and whose watches stay
 * open until the test ends them, delivering the events the test sends.
 */
function fakeKube(lists: object[][]) {
  const requests: string[] = [];
  const watches: { path: string; query: Query; send: (e: WatchEvent) => void; end: (err?: Error) => void }[] = [];
  let listCalls = 0;
  const kube = {
    server: 'fake',
    context: 'fake',
    retries: 0,
    request: async (r: KubeRequest) => {
      requests.push(r.path);
      const items = lists[Math.min(listCalls++, lists.length - 1)]!;
      return { metadata: { resourceVersion: `list-${listCalls}` }, items };
    },
    watch: (path: string, query: Query, onEvent: (e: WatchEvent) => void, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        const w = {
          path,
          query,
          send: (e: WatchEvent) => {
            if (!signal?.aborted) onEvent(e);
          },
          end: (err?: Error) => (err ? reject(err) : resolve()),
        };
        watches.push(w);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
  } as unknown as Kube;
  return { kube, requests, watches };
}

const dep = (name: string, generation: number, observed: number, available: number, rv = '1') => ({
  metadata: { name, generation, resourceVersion: rv },
  spec: { replicas: 1 },
  status: { observedGeneration: observed, replicas: 1, updatedReplicas: 1, availableReplicas: available },
});
const ref = (name: string) => ({ namespace: 'shop', kind: 'Deployment', name });

describe('createRolloutWatcher', () => {
  it('serves every workload of a namespace from one list and one watch, each done on its own event', async () => {
    const { clock } = manualClock();
    const { kube, requests, watches } = fakeKube([[dep('a', 2, 1, 1), dep('b', 5, 4, 1)]]);
    const w = createRolloutWatcher({ kube, clock });
    const messages: string[] = [];
    const a = w.wait(ref('a'), 2, { timeoutMs: 60_000, onMessage: (m) => messages.push(`a: ${m}`) });
    const b = w.wait(ref('b'), 5, { timeoutMs: 60_000 });
    await flush();
    expect(requests).toEqual(['/apis/apps/v1/namespaces/shop/deployments']);
    expect(watches.map((x) => [x.path, x.query.resourceVersion])).toEqual([
      ['/apis/apps/v1/namespaces/shop/deployments', 'list-1'],
    ]);
    watches[0]!.send({ type: 'MODIFIED', object: dep('b', 5, 5, 1, '7') });
    expect(await b).toMatchObject({ state: 'done', message: 'deployment "b" successfully rolled out' });
    watches[0]!.send({ type: 'MODIFIED', object: dep('a', 2, 2, 0, '8') });
    watches[0]!.send({ type: 'MODIFIED', object: dep('a', 2, 2, 1, '9') });
    expect(await a).toMatchObject({ state: 'done' });
    expect(messages).toEqual([
      'a: waiting for deployment spec update to be observed',
      'a: 0 of 1 updated replicas are available',
    ]);
    expect(w.stats).toEqual({ lists: 1, watches: 1 });
    w.close();
  });

  it('does not take an object older than the restart for a finished rollout', async () => {
    const { clock } = manualClock();
    // generation 3 fully rolled out: the state before our patch made generation 4
    const { kube, watches } = fakeKube([[dep('a', 3, 3, 1)]]);
    const w = createRolloutWatcher({ kube, clock });
    const messages: string[] = [];
    let settled = false;
    const a = w.wait(ref('a'), 4, { timeoutMs: 60_000, onMessage: (m) => messages.push(m) }).finally(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false);
    expect(messages).toEqual(['waiting for the restart to be observed']);
    watches[0]!.send({ type: 'MODIFIED', object: dep('a', 4, 4, 1) });
    expect(await a).toMatchObject({ state: 'done' });
    w.close();
  });

  it('fails a workload deleted while rolling out', async () => {
    const { clock } = manualClock();
    const { kube, watches } = fakeKube([[dep('a', 2, 1, 0)]]);
    const w = createRolloutWatcher({ kube, clock });
    const a = w.wait(ref('a'), 2, { timeoutMs: 60_000 });
    await flush();
    watches[0]!.send({ type: 'DELETED', object: dep('a', 2, 1, 0) });
    expect(await a).toMatchObject({ state: 'failed', message: 'deployment shop/a was deleted while rolling out' });
    w.close();
  });

  it('resumes a watch that ended from the last resourceVersion; after an ERROR it lists again and finds a deleted workload', async () => {
    const { clock, advance } = manualClock();
    const { kube, requests, watches } = fakeKube([[dep('a', 2, 1, 0), dep('b', 2, 1, 0)], [dep('a', 2, 1, 0)]]);
    const w = createRolloutWatcher({ kube, clock }, { pollMs: 100 });
    const a = w.wait(ref('a'), 2, { timeoutMs: 60_000 });
    const b = w.wait(ref('b'), 2, { timeoutMs: 60_000 });
    await flush();
    watches[0]!.send({ type: 'MODIFIED', object: dep('a', 2, 2, 0, '11') });
    watches[0]!.end(); // the server's timeout
    await advance(100);
    expect(watches[1]!.query.resourceVersion).toBe('11');
    expect(requests).toHaveLength(1);
    watches[1]!.send({ type: 'ERROR', object: { kind: 'Status', code: 410 } });
    await advance(100);
    expect(requests).toHaveLength(2); // listed again: b is gone
    expect(await b).toMatchObject({ state: 'failed', message: 'deployment shop/b was deleted while rolling out' });
    expect(watches[2]!.query.resourceVersion).toBe('list-2');
    watches[2]!.send({ type: 'MODIFIED', object: dep('a', 2, 2, 1, '20') });
    expect(await a).toMatchObject({ state: 'done' });
    w.close();
  });

  it('times out naming the workload, the flag and the last status, and says why when the watch keeps failing', async () => {
    const { clock, advance } = manualClock();
    const { kube, watches } = fakeKube([[dep('a', 2, 2, 0)]]);
    const w = createRolloutWatcher({ kube, clock });
    const a = w.wait(ref('a'), 2, { timeoutMs: 3_000 });
    await flush();
    watches[0]!.end();
    await advance(3_000);
    expect(await a).toEqual({
      state: 'timeout',
      message:
        'deployment shop/a did not finish rolling out within 3s (--timeout): 0 of 1 updated replicas are available',
      seconds: 3,
    });
    w.close();

    const failing = fakeKube([]);
    failing.kube.request = async () => {
      throw new Error('403 Forbidden: cannot list deployments');
    };
    const w2 = createRolloutWatcher({ kube: failing.kube, clock });
    const b = w2.wait(ref('b'), 2, { timeoutMs: 2_000 });
    await flush();
    await advance(2_000);
    expect((await b).message).toBe(
      'deployment shop/b did not finish rolling out within 2s (--timeout): waiting for the restart to be observed (watch: 403 Forbidden: cannot list deployments)',
    );
    w2.close();

    // A failure that passed is not blamed: the list answered, the rollout was just slow.
    const recovering = fakeKube([[dep('c', 1, 1, 1)]]);
    const answer = recovering.kube.request;
    let calls = 0;
    recovering.kube.request = async (r: KubeRequest) => {
      if (calls++ === 0) throw new Error('connection reset');
      return answer(r);
    };
    const w3 = createRolloutWatcher({ kube: recovering.kube, clock }, { pollMs: 100 });
    const c = w3.wait(ref('c'), 2, { timeoutMs: 5_000 });
    await advance(200); // the pause after one failure: pollMs doubled
    expect(recovering.watches).toHaveLength(1);
    await advance(4_800);
    expect((await c).message).toBe(
      'deployment shop/c did not finish rolling out within 5s (--timeout): waiting for the restart to be observed',
    );
    w3.close();
  });

  it('fails at once when kubectl would (OnDelete StatefulSet), and refuses kinds without rollout rules', async () => {
    const { clock } = manualClock();
    const { kube } = fakeKube([
      [{ metadata: { name: 'db', generation: 1 }, spec: { updateStrategy: { type: 'OnDelete' } }, status: {} }],
    ]);
    const w = createRolloutWatcher({ kube, clock });
    const r = await w.wait({ namespace: 'shop', kind: 'StatefulSet', name: 'db' }, 1, { timeoutMs: 3_000 });
    expect(r).toMatchObject({
      state: 'failed',
      message: 'statefulset shop/db: rollout status is only available for RollingUpdate strategy type',
    });
    await expect(w.wait({ namespace: 'shop', kind: 'Job', name: 'x' }, 1, { timeoutMs: 1 })).rejects.toThrow(
      'no rollout rules for kind Job',
    );
    w.close();
  });
});
