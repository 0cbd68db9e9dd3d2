import type { Clock } from '../../src/clock.ts';

/** Lets every pending callback and promise run (one turn of the event loop). */
export const flush = () => new Promise((r) => setTimeout(r, 0));

/** A clock that only moves when the test advances it. */
export function manualClock() {
  let now = 0;
  const timers: { due: number; resolve: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(new Error('aborted'));
        const t = { due: now + ms, resolve };
        timers.push(t);
        signal?.addEventListener(
          'abort',
          () => {
            timers.splice(timers.indexOf(t), 1);
            reject(new Error('aborted'));
          },
          { once: true },
        );
      }),
  };
  const advance = async (ms: number) => {
    await flush(); // let pending work reach its sleep first
    now += ms;
    for (const t of timers.filter((x) => x.due <= now)) {
      timers.splice(timers.indexOf(t), 1);
      t.resolve();
    }
    await flush();
  };
  return { clock, advance };
}
