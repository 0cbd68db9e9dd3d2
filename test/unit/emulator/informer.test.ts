import { describe, expect, it } from 'vitest';
import type { Kube, KubeObject, WatchEvent } from '../../../src/kube/client.ts';
import { KubeApiError } from '../../../src/kube/client.ts';
import { startInformer } from '../../emulator/informer.ts';
import { waitFor } from '../../support/wait.ts';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** A scripted API: each list returns the next page of items, each watch plays the next script. */
function fakeKube(
  lists: KubeObject[][],
  watches: ((emit: (e: WatchEvent) => void) => Promise<void>)[],
): Kube & { calls: string[] } {
  const calls: string[] = [];
  return {
    server: 'fake',
    context: 'fake',
    retries: 0,
    calls,
    pinnedKubeconfig: () => '{}',
    serverNow: () => Date.now(),
    async request<T>(): Promise<T> {
      calls.push('list');
      const items = lists.shift() ?? [];
      return { metadata: { resourceVersion: String(calls.length) }, items } as T;
    },
    async watch<T>(
      _path: string,
      query: Record<string, unknown>,
      onEvent: (e: WatchEvent<T>) => void,
      signal?: AbortSignal,
    ): Promise<void> {
      calls.push(`watch@${String(query.resourceVersion)}`);
      const script = watches.shift();
      if (script) return script(onEvent as (e: WatchEvent) => void);
      await new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true }));
    },
  };
}

const lists = (kube: { calls: string[] }) => kube.calls.filter((c) => c === 'list').length;

describe('startInformer', () => {
  it('lists, applies watch events, and re-lists after the watch expires, reporting what vanished', async () => {
    const kube = fakeKube(
      [[obj('a', '1'), obj('b', '1')], [obj('a', '3')]],
      [
        async (emit) => {
          emit({ type: 'MODIFIED', object: obj('a', '2') });
          emit({ type: 'ERROR', object: {} });
        },
      ],
    );
    const seen: string[] = [];
    const ac = new AbortController();
    const inf = startInformer({
      kube,
      path: '/x',
      signal: ac.signal,
      log: () => {},
      retryMs: 1,
      onChange: (t, o) => seen.push(`${t} ${o.metadata?.name}@${String(o.metadata?.resourceVersion)}`),
    });
    await inf.synced;
    // Waited for, not slept on: under a loaded machine (npm test runs the unit tests beside three shards) a
    // fixed 30 ms was not always enough for the re-list.
    await waitFor('the re-list and its watch', async () => kube.calls.length >= 4 && seen.length >= 5, {
      timeoutMs: 5000,
      intervalMs: 5,
    });
    ac.abort();
    expect(seen).toEqual(['ADDED a@1', 'ADDED b@1', 'MODIFIED a@2', 'MODIFIED a@3', 'DELETED b@1']);
    expect([...inf.items.keys()]).toEqual(['ns/a']);
    expect(kube.calls.slice(0, 4)).toEqual(['list', 'watch@1', 'list', 'watch@3']);
  });

  it('keeps going after a failed watch and a handler that throws', async () => {
    const kube = fakeKube(
      [[obj('a', '1')], [obj('a', '1')]],
      [
        async () => {
          throw new KubeApiError(500, 'WATCH /x', { message: 'boom' });
        },
      ],
    );
    const logs: string[] = [];
    const ac = new AbortController();
    const inf = startInformer({
      kube,
      path: '/x',
      signal: ac.signal,
      log: (l) => logs.push(l),
      retryMs: 1,
      onChange: () => {
        throw new Error('bad handler');
      },
    });
    await inf.synced;
    await waitFor('the re-list after the failed watch', async () => lists(kube) >= 2, {
      timeoutMs: 5000,
      intervalMs: 5,
    });
    ac.abort();
    expect(logs.some((l) => l.startsWith('error: handler for /x ns/a failed: bad handler'))).toBe(true);
    expect(logs.some((l) => l.startsWith('watch /x failed, re-listing'))).toBe(true);
    expect(kube.calls.filter((c) => c === 'list').length).toBeGreaterThanOrEqual(2);
  });
});
