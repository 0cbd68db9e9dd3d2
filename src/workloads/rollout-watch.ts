/**
 * Waiting for many rollouts at once: one list and one watch per kind and namespace, shared by
 * every workload rolling there, instead of a read and a watch per workload (a restart of 100
 * Deployments in one namespace holds one connection, not 100, and the server keeps one watcher).
 *
 * Each waiter applies the `kubectl rollout status` rules to the objects the watch delivers, but
 * only to an object at least as new as the generation its restart produced: an event from before
 * the patch must not count as "rolled out". When the watch ends (server timeout, dropped
 * connection) it resumes from the last resourceVersion; after an ERROR (410 Gone) it lists again,
 * and a waiting workload missing from that list was deleted.
 */
import type { Deps } from '../deps.ts';
import { type KubeList, type KubeObject, type WatchEvent } from '../kube/client.ts';
import { collectionPath } from '../kube/paths.ts';
import type { WorkloadRef } from './owners.ts';
import { isRollingKind, rolloutRules, type RolloutStatus } from './rollout-rules.ts';
import {
  deletedResult,
  settledResult,
  timeoutResult,
  type WaitOptions,
  type WaitResult,
  workloadRefs,
} from './rollout-wait.ts';

type Obj = KubeObject & { metadata?: { name?: string; generation?: number; resourceVersion?: string } };

interface Waiter {
  ref: WorkloadRef;
  minGeneration: number;
  rule: (o: unknown) => RolloutStatus;
  last: RolloutStatus;
  reported: string;
  opts: WaitOptions;
  start: number;
  timer: AbortController;
  settle: (r: WaitResult) => void;
}

interface Channel {
  /** The newest object seen per name, once the first list has been read. */
  latest: Map<string, Obj> | undefined;
  waiters: Map<string, Set<Waiter>>;
  lastError: string | undefined;
}

export interface RolloutWatcher {
  /**
   * Waits for the workload's rollout. `minGeneration` is the generation its restart produced
   * (from the PATCH response): older objects only say the restart is not seen yet.
   */
  wait(ref: WorkloadRef, minGeneration: number, opts: WaitOptions): Promise<WaitResult>;
  /** Ends every watch; waits still pending end as timed out. */
  close(): void;
  /** Lists and watches opened so far (for tests and reports). */
  readonly stats: { lists: number; watches: number };
}

const notSeen: RolloutStatus = { state: 'waiting', message: 'waiting for the restart to be observed' };

export function createRolloutWatcher(
  deps: Pick<Deps, 'kube' | 'clock'>,
  opts: { pollMs?: number | undefined; watchSeconds?: number } = {},
): RolloutWatcher {
  const channels = new Map<string, Channel>();
  const closed = new AbortController();
  const stats = { lists: 0, watches: 0 };

  const seconds = (w: Waiter) => Math.round((deps.clock.now() - w.start) / 100) / 10;

  function finish(ch: Channel, w: Waiter, r: WaitResult): void {
    const set = ch.waiters.get(w.ref.name);
    set?.delete(w);
    if (set?.size === 0) ch.waiters.delete(w.ref.name);
    w.timer.abort();
    w.settle(r);
  }

  function see(ch: Channel, w: Waiter, obj: Obj | undefined): void {
    if (!obj) return finish(ch, w, deletedResult(w.ref, seconds(w)));
    w.last = (obj.metadata?.generation ?? 0) >= w.minGeneration ? w.rule(obj) : notSeen;
    if (w.last.state === 'waiting') {
      if (w.last.message !== w.reported) w.opts.onMessage?.((w.reported = w.last.message));
      return;
    }
    finish(ch, w, settledResult(w.ref, w.last, seconds(w)));
  }

  function update(ch: Channel, name: string, obj: Obj | undefined): void {
    if (!ch.latest) return;
    if (obj) ch.latest.set(name, obj);
    else ch.latest.delete(name);
    for (const w of [...(ch.waiters.get(name) ?? [])]) see(ch, w, obj);
  }

  async function list(ch: Channel, path: string): Promise<string | undefined> {
    stats.lists++;
    const l = await deps.kube.request<KubeList<Obj>>({ path });
    ch.latest = new Map(l.items.map((o) => [o.metadata?.name ?? '', o]));
    ch.lastError = undefined; // answered again: an earlier failure no longer explains a wait
    for (const name of [...ch.waiters.keys()]) update(ch, name, ch.latest.get(name));
    return l.metadata?.resourceVersion;
  }

  async function run(ch: Channel, path: string): Promise<void> {
    let rv: string | undefined;
    let failures = 0;
    while (!closed.signal.aborted) {
      const stop = new AbortController();
      const onClose = () => stop.abort();
      closed.signal.addEventListener('abort', onClose, { once: true });
      try {
        rv ??= await list(ch, path);
        stats.watches++;
        await deps.kube.watch<Obj>(
          path,
          { resourceVersion: rv, timeoutSeconds: opts.watchSeconds ?? 300 },
          (e: WatchEvent<Obj>) => {
            if (e.type === 'ERROR') {
              rv = undefined;
              stop.abort();
              return;
            } // e.g. 410 Gone: list again
            rv = e.object.metadata?.resourceVersion ?? rv;
            if (e.type === 'BOOKMARK') return;
            failures = 0;
            update(ch, e.object.metadata?.name ?? '', e.type === 'DELETED' ? undefined : e.object);
          },
          stop.signal,
        );
      } catch (err) {
        failures++;
        ch.lastError = String((err as Error)?.message ?? err).slice(0, 200);
      } finally {
        closed.signal.removeEventListener('abort', onClose);
      }
      if (closed.signal.aborted) return;
      const pause = Math.min((opts.pollMs ?? 200) * 2 ** Math.min(failures, 4), 2000);
      await deps.clock.sleep(pause, closed.signal).catch(() => undefined);
    }
  }

  function channel(ref: WorkloadRef & { kind: keyof typeof workloadRefs }): Channel {
    const key = `${ref.kind}\u0000${ref.namespace}`;
    let ch = channels.get(key);
    if (!ch) {
      const fresh: Channel = { latest: undefined, waiters: new Map(), lastError: undefined };
      channels.set(key, (ch = fresh));
      void run(fresh, collectionPath(workloadRefs[ref.kind], ref.namespace));
    }
    return ch;
  }

  return {
    stats,
    wait(ref, minGeneration, waitOpts) {
      const kind = ref.kind;
      if (!isRollingKind(kind)) return Promise.reject(new Error(`no rollout rules for kind ${kind}`));
      const ch = channel({ ...ref, kind });
      return new Promise<WaitResult>((resolve) => {
        const w: Waiter = {
          ref,
          minGeneration,
          rule: rolloutRules[kind],
          last: notSeen,
          reported: '',
          opts: waitOpts,
          start: deps.clock.now(),
          timer: new AbortController(),
          settle: resolve,
        };
        const set = ch.waiters.get(ref.name) ?? new Set<Waiter>();
        ch.waiters.set(ref.name, set.add(w));
        deps.clock.sleep(waitOpts.timeoutMs, w.timer.signal).then(
          () =>
            finish(
              ch,
              w,
              timeoutResult(
                ref,
                waitOpts.timeoutMs,
                ch.lastError && w.last === notSeen ? `${w.last.message} (watch: ${ch.lastError})` : w.last.message,
                seconds(w),
              ),
            ),
          () => undefined,
        );
        // Absent from what was read so far: not seen yet (deletion is concluded only from a DELETED event or a list).
        const seen = ch.latest?.get(ref.name);
        if (seen) see(ch, w, seen);
      });
    },
    close() {
      closed.abort();
      for (const ch of channels.values()) {
        for (const set of [...ch.waiters.values()])
          for (const w of [...set]) finish(ch, w, timeoutResult(w.ref, w.opts.timeoutMs, w.last.message, seconds(w)));
      }
    },
  };
}
