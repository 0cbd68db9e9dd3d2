/**
 * A long batch that goes through much more garbage than it keeps (a restore parses every object of the
 * backup and sends it once) would let V8 grow its old generation well past what is live before the next
 * full collection: a restore of 100,000 objects peaked at 317 MB, and a heap snapshot near the end of a
 * 10,000-object restore found 22 MB live while that process peaked at 160 MB or more.
 * `collectEvery(n)` gives the batch a tick to call once per unit of work (a part of 100 documents); every
 * n-th tick runs a full collection, so the peak stays near what is live plus n units' garbage.
 *
 * The collector is V8's own `gc`, exposed at run time (`--expose-gc` through node:v8, taken from a new
 * context as Node's documentation shows), so it works whatever started the process: the launcher, the
 * single executable, or a test. Measured (docs/window.md): 100,000 objects restored with a collection
 * every 20 parts peaked at 261 MB instead of 317 MB, for about 11 s more of the process's CPU (40.1 s).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let exposed: (() => void) | undefined;

/** V8's full garbage collection, exposed on first use. */
export function fullCollection(): () => void {
  if (!exposed) {
    v8.setFlagsFromString('--expose-gc');
    exposed = vm.runInNewContext('gc') as () => void;
  }
  return exposed;
}

/** A tick that runs a full collection on every `n`-th call (n >= 1); `collect` is for tests. */
export function collectEvery(n: number, collect: () => void = fullCollection()): () => void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`collectEvery: ${n} is not a whole number >= 1`);
  let ticks = 0;
  return () => {
    if (++ticks % n === 0) collect();
  };
}
