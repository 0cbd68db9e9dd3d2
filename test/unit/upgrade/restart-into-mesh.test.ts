import { describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { KubeApiError, type Kube, type KubeRequest } from '../../../src/kube/client.ts';
import { restartIntoMesh } from '../../../src/engine/phases/restart-into-mesh.ts';
import { flush, manualClock } from '../../support/manual-clock.ts';

const deployments = '/apis/apps/v1/namespaces/shop/deployments';
/** Every Deployment is at generation 2 (what the restart patch returns); `slow` never becomes available. */
const dep = (name: string) => ({
  metadata: { name, generation: 2, resourceVersion: '1' },
  spec: { replicas: 1 },
  status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: name === 'slow' ? 0 : 1 },
});
const ref = (name: string, kind = 'Deployment') => ({ namespace: 'shop', kind, name });

/** PATCH answers generation 2, or 404 for `gone`, or 403 for `denied`; the list holds every name; watches stay open. */
function fakeDeps(names: string[]) {
  const patched: string[] = [];
  const kube = {
    server: 'fake',
    context: 'fake',
    retries: 0,
    request: async (r: KubeRequest) => {
      if (r.method === 'PATCH') {
        const name = r.path.slice(deployments.length + 1);
        patched.push(name);
        if (name === 'gone') throw new KubeApiError(404, `PATCH ${r.path}`, { reason: 'NotFound' });
        if (name === 'denied') throw new KubeApiError(403, `PATCH ${r.path}`, { reason: 'Forbidden' });
        return { metadata: { generation: 2 } };
      }
      return { metadata: { resourceVersion: '1' }, items: names.map(dep) };
    },
    watch: (_path: string, _query: unknown, _onEvent: unknown, signal?: AbortSignal) =>
      new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
  } as unknown as Kube;
  const { clock, advance } = manualClock();
  return { deps: { kube, clock } as unknown as Deps, patched, advance };
}

describe('restartIntoMesh', () => {
  it('slow start: one workload first, widening as they come back healthy; skips a deleted workload, and reports what did not come back', async () => {
    const { deps, patched, advance } = fakeDeps(['a', 'gone', 'c', 'slow']);
    const progress: string[] = [];
    const run = restartIntoMesh(deps, [ref('a'), ref('gone'), ref('c'), ref('slow'), ref('bare', 'Pod')], {
      timeoutMs: 60_000,
      concurrency: 2,
      maxFailures: 0,
      progress: (m) => progress.push(m),
    });
    await flush();
    await flush();
    // `a` went alone and came back: the window widened to 2 (gone, c), then to the limit; `slow` is still rolling.
    expect(patched).toEqual(['a', 'gone', 'c', 'slow']);
    await advance(60_000);
    const r = await run;
    expect(r.restarted).toEqual(['Deployment shop/a', 'Deployment shop/c']);
    expect(r.unresolved).toHaveLength(2);
    expect(r.unresolved[0]).toMatch(/^Pod shop\/bare: had a sidecar before the upgrade and has no controller/);
    expect(r.unresolved[1]).toMatch(/^Deployment shop\/slow: /);
    expect(progress).toContain('Deployment shop/gone no longer exists');
    expect(progress.some((m) => m.startsWith('Deployment shop/slow: '))).toBe(true);
  });

  it('stops at the failure gate: the first workload does not come back, so no other starts', async () => {
    const { deps, patched, advance } = fakeDeps(['slow', 'a', 'c']);
    const run = restartIntoMesh(deps, [ref('slow'), ref('a'), ref('c')], {
      timeoutMs: 60_000,
      concurrency: 8,
      progress: () => {},
    });
    await flush();
    expect(patched).toEqual(['slow']);
    await advance(60_000);
    const r = await run;
    expect(patched).toEqual(['slow']);
    expect(r.restarted).toEqual([]);
    expect(r.unresolved[0]).toMatch(/^Deployment shop\/slow: .*did not finish rolling out/);
    expect(r.unresolved.slice(1)).toEqual([
      'Deployment shop/a: not restarted: the restart stopped at the failure gate (--max-failures 1); fix the cause, then continue with --resume',
      'Deployment shop/c: not restarted: the restart stopped at the failure gate (--max-failures 1); fix the cause, then continue with --resume',
    ]);
  });

  it('stops on any other API error: the error is thrown and no further workload is started', async () => {
    const { deps, patched } = fakeDeps(['denied', 'a']);
    await expect(
      restartIntoMesh(deps, [ref('denied'), ref('a')], { timeoutMs: 60_000, concurrency: 1, progress: () => {} }),
    ).rejects.toMatchObject({ status: 403 });
    expect(patched).toEqual(['denied']);
  });
});
