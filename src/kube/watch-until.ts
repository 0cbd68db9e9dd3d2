/**
 * The pause of a wait that watches (wait.ts `pause`): it watches a collection for up to `ms` and
 * ends early at the first event `until` accepts, so the wait checks again as soon as something
 * changed instead of sleeping. Otherwise it lasts `ms` whatever the watch does: a watch the server
 * ends early or that fails (logged) does not make the wait check in a tight loop. The time limit is
 * on the injected clock. Rejects with the signal's reason when the signal aborts.
 */
import type { Clock } from '../clock.ts';
import type { Kube, KubeObject, Query, WatchEvent } from './client.ts';

export interface WatchUntil<T> {
  path: string;
  /** The watch's query (fieldSelector, labelSelector, resourceVersion); a timeout is added. */
  query: Query;
  until: (e: WatchEvent<T>) => boolean;
  /** Where a failed watch is told (it is not an error of the wait: the next check decides). */
  log: (message: string) => void;
}

export async function watchUntil<T = KubeObject>(
  deps: { kube: Kube; clock: Clock },
  w: WatchUntil<T>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal?.aborted) throw signal.reason;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = deps.clock.sleep(ms, stop.signal).then(
    () => stop.abort(),
    () => undefined,
  );
  let changed = false;
  try {
    await deps.kube.watch<T>(
      w.path,
      { ...w.query, timeoutSeconds: Math.max(1, Math.ceil(ms / 1000)) },
      (e) => {
        if (!changed && w.until(e)) {
          changed = true;
          stop.abort();
        }
      },
      stop.signal,
    );
  } catch (err) {
    w.log(`watch ${w.path}: ${(err as Error).message}`);
  }
  // Ended without the change (the server's timeout, an error): the rest of the pause is slept.
  if (!changed && !signal?.aborted) await timer;
  stop.abort();
  await timer;
  signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) throw signal.reason;
}
