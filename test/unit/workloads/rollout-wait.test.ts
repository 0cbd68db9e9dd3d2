import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/deps.ts';
import type { Kube, KubeRequest } from '../../../src/kube/client.ts';
import { waitForRollout } from '../../../src/workloads/rollout-wait.ts';

/** A clock whose sleep advances time at once, and a kube that answers GETs from a script of statuses. */
function fakes(statuses: object[]) {
  let now = 0;
  const clock: Clock = { now: () => now, sleep: async (ms) => { now += ms; } };
  const paths: string[] = [];
  const kube = {
    server: 'fake', context: 'fake', retries: 0,
    request: async (r: KubeRequest) => { paths.push(r.path); return statuses[Math.min(paths.length - 1, statuses.length - 1)]; },
    watch: async () => {},
  } as unknown as Kube;
  return { deps: { kube, clock }, paths };
}

const dep = (observed: number, available: number) =>
  ({ metadata: { name: 'web', generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: observed, replicas: 1, updatedReplicas: 1, availableReplicas: available } });
const ref = { namespace: 'shop', kind: 'Deployment', name: 'web' };

describe('waitForRollout', () => {
  it('polls the workload until the rollout rules say done, reporting each new message once', async () => {
    const { deps, paths } = fakes([dep(1, 0), dep(2, 0), dep(2, 0), dep(2, 1)]);
    const messages: string[] = [];
    const r = await waitForRollout(deps, ref, { timeoutMs: 60_000, pollMs: 500, onMessage: (m) => messages.push(m) });
    expect(r.state).toBe('done');
    expect(paths[0]).toBe('/apis/apps/v1/namespaces/shop/deployments/web');
    expect(paths).toHaveLength(4);
    expect(messages).toEqual(['waiting for deployment spec update to be observed', '0 of 1 updated replicas are available']);
    expect(r.seconds).toBe(1.5); // waits of 0.5 s (already at the 500 ms cap)
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
