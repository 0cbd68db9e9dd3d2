/**
 * The one way the tool waits for something to happen: check, and until the check finds it, pause
 * on the injected clock and check again, until a deadline. Every poll loop goes through `waitFor`,
 * so each has the same rules:
 * - the check runs at once, then after a pause that starts short and doubles up to the interval
 *   (`firstPauseMs`, 250 ms, 500 ms, ... `intervalMs`): what happens at once is seen at once, and
 *   what takes long is not checked more often than once per interval; the last pause is cut short
 *   at the deadline, so a check runs at the deadline and the wait ends there, not up to an interval later
 *   (a watching `pause` below wakes on a change, so its pauses are the interval from the first);
 * - the abort signal (Ctrl-C under the lease) ends the pause at once: the wait rejects with the
 *   signal's reason (a custom `pause` may throw its own error instead);
 * - each state seen while waiting goes to `progress` (the caller words the line);
 * - at the deadline it throws `WaitTimeoutError` naming what was waited for and the last state
 *   seen, or the caller's own error (`timeoutError`), e.g. a StepError with its hint.
 * A check that throws ends the wait with that error. Waits that watch instead of polling pass a
 * `pause` that watches for a change (kube/watch-until.ts).
 */
import type { Clock } from './clock.ts';

/** What one check found: the value waited for, or the state seen while it is not there yet. */
export type Found<T, S = string> = { done: true; value: T } | { done: false; state: S };

/** The check found what it waits for: `value` is what the wait returns. */
export const ready = <T>(value: T): Found<T, never> => ({ done: true, value });
/** Not yet: `state` is what the check saw (shown in progress and in the timeout). */
export const notYet = <S>(state: S): Found<never, S> => ({ done: false, state });

export interface WaitOptions<S = string> {
  clock: Clock;
  /** How long to wait from now; or `deadline`, a time on the clock (a deadline shared by several waits). */
  timeoutMs?: number | undefined;
  deadline?: number | undefined;
  /** The longest pause between two checks (the pauses before it grow from `firstPauseMs`). */
  intervalMs: number;
  /**
   * The first pause (default 250 ms, or the interval if that is shorter; with a custom `pause`, which
   * a change ends early, the interval); each next one doubles, up to the interval.
   */
  firstPauseMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** What is waited for, in the timeout error: "namespace x to be deleted". */
  what: string;
  /** Told each state seen while waiting (not the one at the deadline: the timeout reports that). */
  progress?: ((state: S) => void) | undefined;
  /** The caller's own error at the deadline (default: WaitTimeoutError). */
  timeoutError?: ((state: S) => Error) | undefined;
  /** How to spend a pause (default: sleep on the clock); e.g. a watch that a change ends early. */
  pause?: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

/** A wait that reached its deadline: what it waited for and the last state it saw. */
export class WaitTimeoutError extends Error {
  readonly what: string;
  readonly state: unknown;
  readonly waitedMs: number;
  constructor(what: string, state: unknown, waitedMs: number) {
    super(`timed out after ${Math.round(waitedMs / 1000)}s waiting for ${what}${describeState(state)}`);
    this.name = 'WaitTimeoutError';
    this.what = what;
    this.state = state;
    this.waitedMs = waitedMs;
  }
}

function describeState(state: unknown): string {
  if (state === undefined || state === '') return '';
  return `; last seen: ${typeof state === 'string' ? state : JSON.stringify(state)}`;
}

/** The first pause of a wait unless it says otherwise: short enough that a quick change costs little. */
export const firstPauseMs = 250;

/** Checks until `check` finds its value, and returns it; see the rules above. */
export async function waitFor<T, S = string>(opts: WaitOptions<S>, check: () => Promise<Found<T, S>>): Promise<T> {
  const { clock } = opts;
  const started = clock.now();
  const deadline = opts.deadline ?? started + (opts.timeoutMs ?? 0);
  const pause = opts.pause ?? ((ms: number, signal: AbortSignal | undefined) => clock.sleep(ms, signal));
  let next = Math.min(opts.firstPauseMs ?? (opts.pause ? opts.intervalMs : firstPauseMs), opts.intervalMs);
  for (;;) {
    const found = await check();
    if (found.done) return found.value;
    const now = clock.now();
    if (now > deadline)
      throw opts.timeoutError?.(found.state) ?? new WaitTimeoutError(opts.what, found.state, now - started);
    opts.progress?.(found.state);
    // The last pause ends just past the deadline: the check after it is the last one.
    await pause(Math.min(next, deadline - now + 1), opts.signal);
    next = Math.min(next * 2, opts.intervalMs);
  }
}
