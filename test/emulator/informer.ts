import type { Kube, KubeList, KubeObject, WatchEvent } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';

/**
 * A list-then-watch cache of one resource collection that never gives up: a watch that ends,
 * breaks or expires (410 Gone) is followed by a fresh list. Objects are keyed namespace/name.
 */
export interface Informer<T extends KubeObject> {
  readonly items: Map<string, T>;
  /** Resolves once the first list has been loaded. */
  readonly synced: Promise<void>;
}

export interface InformerOptions<T> {
  kube: Kube;
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Called for every change (a re-list reports each object as ADDED and vanished ones as DELETED). */
  onChange?: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;
  retryMs?: number;
}

const silentMs = 300_000;

export function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export function startInformer<T extends KubeObject>(opts: InformerOptions<T>): Informer<T> {
  const items = new Map<string, T>();
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => {
    markSynced = r;
  });
  const selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => {
    try {
      opts.onChange?.(type, obj);
    } catch (err) {
      opts.log(`error: handler for ${opts.path} ${keyOf(obj)} failed: ${(err as Error).message}`);
    }
  };

  async function relist(): Promise<string> {
    const list = await opts.kube.request<KubeList<T>>({ path: opts.path, query: selectors });
    const seen = new Set<string>();
    for (const o of list.items ?? []) {
      const k = keyOf(o);
      seen.add(k);
      const had = items.has(k);
      items.set(k, o);
      emit(had ? 'MODIFIED' : 'ADDED', o);
    }
    for (const [k, o] of [...items])
      if (!seen.has(k)) {
        items.delete(k);
        emit('DELETED', o);
      }
    markSynced();
    return list.metadata?.resourceVersion ?? '';
  }

  async function loop(): Promise<void> {
    while (!opts.signal.aborted) {
      try {
        let rv = await relist();
        let expired = false;
        while (!opts.signal.aborted && !expired) {
          // A watchdog ends a watch that went silent (a half-open connection sends nothing, not
          // even the bookmarks the server sends about once a minute); the loop then watches again.
          const round = new AbortController();
          const stopRound = () => round.abort();
          opts.signal.addEventListener('abort', stopRound, { once: true });
          let watchdog = setTimeout(stopRound, silentMs);
          const started = Date.now();
          try {
            await opts.kube.watch<T>(
              opts.path,
              { ...selectors, resourceVersion: rv, timeoutSeconds: 240 },
              (e: WatchEvent<T>) => {
                clearTimeout(watchdog);
                watchdog = setTimeout(stopRound, silentMs);
                if (e.type === 'ERROR') {
                  expired = true;
                  return;
                }
                const v = e.object?.metadata?.resourceVersion;
                if (typeof v === 'string') rv = v;
                if (e.type === 'BOOKMARK') return;
                const k = keyOf(e.object);
                if (e.type === 'DELETED') items.delete(k);
                else items.set(k, e.object);
                emit(e.type, e.object);
              },
              round.signal,
            );
          } finally {
            clearTimeout(watchdog);
            opts.signal.removeEventListener('abort', stopRound);
          }
          // A server that closes watches at once must not turn this loop into a busy one.
          if (Date.now() - started < 1000) await new Promise((r) => setTimeout(r, opts.retryMs ?? 1000));
        }
      } catch (err) {
        if (opts.signal.aborted) return;
        const gone = err instanceof KubeApiError && err.status === 410;
        if (!gone) opts.log(`watch ${opts.path} failed, re-listing: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, opts.retryMs ?? 1000));
      }
    }
  }
  void loop();
  return { items, synced };
}
