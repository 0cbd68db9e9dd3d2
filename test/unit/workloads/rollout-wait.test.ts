import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/deps.ts';
import type { Kube, KubeRequest, Query, WatchEvent } from '../../../src/kube/client.ts';
import { waitForRollout } from '../../../src/workloads/rollout-wait.ts';

/**
 * A clock whose sleep advances time at once, and a kube that answers GETs from a script of
 * statuses; its watch sends the given events, then ends as a server would.
 */
function fakes(statuses: object[], events: WatchEvent[] = []) {
  let now = 0;
  const clock: Clock = { now: () => now, sleep: async (ms) => { now += ms; } };
  const paths: string[] = [];
  const watches: { path: string; query: Query }[] = [];
  const kube = {
    server: 'fake', context: 'fake', retries: 0,
    request: async (r: KubeRequest) => { paths.push(r.path); return statuses[Math.min(paths.length - 1, statuses.length - 1)]; },
    watch: async (path: string, query: Query, onEvent: (e: WatchEvent) => void, signal?: AbortSignal) => {
      watches.push({ path, query });
      for (const e of events) { if (signal?.aborted) return; onEvent(e); }
    },
  } as unknown as Kube;
  return { deps: { kube, clock }, paths, watches };
}

const dep = (observed: number, available: number) =>
  ({ metadata: { name: 'web', generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: observed, replicas: 1, updatedReplicas: 1, availableReplicas: available } });
const ref = { namespace: 'shop', kind: 'Deployment', name: 'web' };

describe('waitForRollout', () => {
  it('reads again after a watch that ended early, until the rules say done, reporting each new message once', async () => {
    const { deps, paths } = fakes([dep(1, 0), dep(2, 0), dep(2, 0), dep(2, 1)]);
    const messages: string[] = [];
    const r = await waitForRollout(deps, ref, { timeoutMs: 60_000, pollMs: 500, onMessage: (m) => messages.push(m) });
    expect(r.state).toBe('done');
    expect(paths[0]).toBe('/apis/apps/v1/namespaces/shop/deployments/web');
    expect(paths).toHaveLength(4);
    expect(messages).toEqual(['waiting for deployment spec update to be observed', '0 of 1 updated replicas are available']);
    expect(r.seconds).toBe(1.5); // three pauses of pollMs between the four reads
  });

  it('watches the one object from the version it read, and is done on the event that completes the rollout', async () => {
    const first = { ...dep(2, 0), metadata: { ...dep(2, 0).metadata, resourceVersion: '41' } };
    const { deps, paths, watches } = fakes([first], [
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } },
      { type: 'MODIFIED', object: dep(2, 0) },
      { type: 'MODIFIED', object: dep(2, 1) },
      { type: 'MODIFIED', object: dep(2, 1) }, // not read: the watch was stopped at the previous event
    ]);
    const r = await waitForRollout(deps, ref, { timeoutMs: 60_000 });
    expect(r).toEqual({ state: 'done', message: 'deployment "web" successfully rolled out', seconds: 0 });
    expect(paths).toHaveLength(1);
    expect(watches).toEqual([{ path: '/apis/apps/v1/namespaces/shop/deployments', query: { fieldSelector: 'metadata.name=web', resourceVersion: '41', timeoutSeconds: 60 } }]);
  });

  it('fails when the workload is deleted while rolling out', async () => {
    const { deps } = fakes([dep(2, 0)], [{ type: 'DELETED', object: dep(2, 0) }]);
    const r = await waitForRollout(deps, ref, { timeoutMs: 60_000 });
    expect(r).toMatchObject({ state: 'failed', message: 'deployment shop/web was deleted while rolling out' });
  });

  it('times out naming the workload, the flag and the last status', async () => {
    const { deps } = fakes([dep(2, 0)]);
    const r = await waitForRollout(deps, ref, { timeoutMs: 3_000, pollMs: 1_000 });
    expect(r.state).toBe('timeout');
    expect(r.message).toBe('deployment shop/web did not finish rolling out within 3s (--timeout): 0 of 1 updated replicas are available');
  });

  it('fails at once when kubectl would (OnDelete StatefulSet)', async () => {
    const { deps } = fakes([{ metadata: { name: 'db', generation: 1 }, spec: { updateStrategy: { type: 'OnDelete' } }, status: {} }]);
    const r = await waitForRollout(deps, { namespace: 'shop', kind: 'StatefulSet', name: 'db' }, { timeoutMs: 3_000 });
    expect(r).toMatchObject({ state: 'failed', message: 'statefulset shop/db: rollout status is only available for RollingUpdate strategy type' });
  });
});
