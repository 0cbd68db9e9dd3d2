/**
 * A cluster's run speaks `-o json`: one event per line (engine/events.ts). The fleet reads them to drive that cluster's task group: `StepTracker` turns the stream
 * into one outcome per expected step. Pure (no I/O, no timers).
 *
 * A resumed run emits nothing for the steps its journal holds: a step still waiting when a later one
 * starts, or when the run ends well, was done before. When the run fails without naming a step (it
 * was killed, or failed before its first event), the first step still waiting takes the failure.
 */

import type { RunEvent } from '../engine/events.ts';

export { parseEventLine, type RunEvent } from '../engine/events.ts';

export type StepOutcome =
  | { kind: 'done'; title?: string | undefined; note?: string | undefined }
  | { kind: 'skipped'; title?: string | undefined; reason: string };

interface Slot {
  id: string;
  title?: string | undefined;
  promise: Promise<StepOutcome>;
  resolve: (o: StepOutcome) => void;
  reject: (e: Error) => void;
  settled: boolean;
  progress?: string | undefined;
  onProgress?: ((m: string) => void) | undefined;
}

export class StepTracker {
  private readonly slots: Slot[];
  private failed = false;

  constructor(steps: readonly { id: string }[]) {
    this.slots = steps.map(({ id }) => {
      let resolve!: (o: StepOutcome) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<StepOutcome>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined); // awaited by the task list, maybe never (a step after a failure)
      return { id, promise, resolve, reject, settled: false };
    });
  }

  /** The outcome of a step: resolves when done or skipped, rejects when it failed. */
  outcome(id: string): Promise<StepOutcome> {
    return this.slot(id)?.promise ?? Promise.resolve({ kind: 'skipped', reason: 'not part of this run' });
  }

  /** Calls `f` with the step's progress messages (the latest one at once). */
  onProgress(id: string, f: (m: string) => void): void {
    const s = this.slot(id);
    if (!s) return;
    s.onProgress = f;
    if (s.progress !== undefined) f(s.progress);
  }

  /** The step's title as its run named it (start event), once known. */
  title(id: string): string | undefined {
    return this.slot(id)?.title;
  }

  private slot(id: string): Slot | undefined {
    return this.slots.find((s) => s.id === id);
  }

  private settle(s: Slot, o: StepOutcome | Error): void {
    if (s.settled) return;
    s.settled = true;
    if (o instanceof Error) s.reject(o);
    else s.resolve(o);
  }

  /** Everything before `s` that is still waiting was done before (the journal's steps of a resume). */
  private settleEarlier(s: Slot): void {
    for (const x of this.slots.slice(0, this.slots.indexOf(s)))
      this.settle(x, { kind: 'skipped', reason: 'done before (journal)' });
  }

  feed(e: RunEvent): void {
    const s = this.slot(e.step);
    if (!s) return;
    switch (e.event) {
      case 'start':
        s.title = e.title;
        this.settleEarlier(s);
        return;
      case 'progress':
        s.progress = e.message;
        s.onProgress?.(e.message);
        return;
      case 'done':
        this.settleEarlier(s);
        this.settle(s, { kind: 'done', title: s.title, note: e.message ?? e.skipped });
        return;
      case 'skipped':
        this.settleEarlier(s);
        this.settle(s, { kind: 'skipped', title: s.title, reason: e.reason });
        return;
      case 'failed':
        this.settleEarlier(s);
        this.failed = true;
        this.settle(s, new Error(e.error));
        return;
    }
  }

  /**
   * The run exited. Exit 0: what is still waiting was done before, or `why` says why it did not run
   * ("NSM is already on 2.0.0; nothing to do."). Otherwise the first step still waiting takes the
   * failure, `why`, unless a step failed already.
   */
  exit(code: number, why: string): void {
    const waiting = this.slots.filter((s) => !s.settled);
    if (code === 0) {
      for (const s of waiting) this.settle(s, { kind: 'skipped', reason: why || 'done before (journal)' });
      return;
    }
    if (!this.failed && waiting[0]) this.settle(waiting[0], new Error(why));
    // The rest never ran: the task list stops at the failure and does not wait for them.
  }
}
