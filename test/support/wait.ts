/**
 * The one wait of the test support code: poll a condition on a short interval until it holds or a deadline
 * passes. A fixed 1-2 s sleep between polls costs half its length on average at every wait; the local API
 * server answers a GET in milliseconds, so 100 ms is short enough to notice at once and cheap enough to poll.
 */

/** How often a wait polls unless told otherwise. */
export const pollMs = 100;

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** On timeout, what the cluster shows then (added to the error), to say what held the wait. */
  why?: () => Promise<string>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it returns something other than undefined or false, and returns that; throws
 * `timed out after N s waiting for <what>` when `timeoutMs` passes first. A check that throws fails the wait.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  o: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) {
      const seen = o.why
        ? `: ${await o.why().catch((err: unknown) => `(could not read why: ${(err as Error).message})`)}`
        : '';
      throw new Error(`timed out after ${Math.round(o.timeoutMs / 1000)} s waiting for ${what}${seen}`);
    }
    await pause(o.intervalMs ?? pollMs);
  }
}

/** As waitFor, but says whether the condition held in time instead of throwing (for best-effort clean-up waits). */
export async function settled(check: () => Promise<boolean>, o: WaitOptions): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await pause(o.intervalMs ?? pollMs);
  }
}
