/**
 * The one wait (src/wait.ts) on the manual clock: the checks' times, the deadline, the progress,
 * the abort signal and the value returned; and the watching pause (kube/watch-until.ts).
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../../src/clock.ts';
import { notYet, ready, waitFor, WaitTimeoutError, type Found } from '../../../src/wait.ts';
import { watchUntil } from '../../../src/kube/watch-until.ts';
import { crdNotReady } from '../../../src/backup/crd-wait.ts';
import type { Kube, WatchEvent } from '../../../src/kube/client.ts';
import { flush, manualClock } from '../../support/manual-clock.ts';

/** A check that answers from `answers` in turn (the last one forever) and records when it ran. */
function scripted<T>(clock: { now(): number }, answers: Found<T>[]) {
  const at: number[] = [];
  const check = async () => {
    at.push(clock.now());
    return answers[Math.min(at.length - 1, answers.length - 1)]!;
  };
  return { at, check };
}

/** Advances the manual clock in steps until `p` settles (or `limitMs` of clock time pass). */
async function settle<T>(
  p: Promise<T>,
  advance: (ms: number) => Promise<void>,
  stepMs: number,
  limitMs = 600_000,
): Promise<{ value?: T; error?: unknown }> {
  let out: { value?: T; error?: unknown } | undefined;
  p.then(
    (value) => {
      out = { value };
    },
    (error: unknown) => {
      out = { error };
    },
  );
  for (let t = 0; !out && t <= limitMs; t += stepMs) await advance(stepMs);
  await flush();
  if (!out) throw new Error('the wait never settled');
  return out;
}

describe('waitFor', () => {
  it('checks at once, then after pauses that double from 250 ms up to the interval, and returns the value the check found', async () => {
    const { clock, advance } = manualClock();
    const answers = [notYet('a'), notYet('b'), notYet('c'), notYet('d'), notYet('e'), ready(42)];
    const { at, check } = scripted(clock, answers);
    const r = await settle(waitFor({ clock, timeoutMs: 60_000, intervalMs: 1000, what: 'x' }, check), advance, 50);
    expect(r.value).toBe(42);
    expect(at).toEqual([0, 250, 750, 1750, 2750, 3750]);
  });

  it('with firstPauseMs the interval, checks once per interval from the start; a shorter interval caps the first pause', async () => {
    const { clock, advance } = manualClock();
    const even = scripted(clock, [notYet('a'), notYet('b'), ready(1)]);
    await settle(
      waitFor({ clock, timeoutMs: 60_000, intervalMs: 1000, firstPauseMs: 1000, what: 'x' }, even.check),
      advance,
      50,
    );
    expect(even.at).toEqual([0, 1000, 2000]);
    const start = clock.now();
    const short = scripted(clock, [notYet('a'), notYet('b'), ready(2)]);
    await settle(waitFor({ clock, timeoutMs: 60_000, intervalMs: 100, what: 'x' }, short.check), advance, 50);
    expect(short.at.map((t) => t - start)).toEqual([0, 100, 200]);
  });

  it('ends at the deadline: the last pause is cut short, a last check runs there, and the error names what and the last state', async () => {
    const { clock, advance } = manualClock();
    const { at, check } = scripted<never>(clock, [notYet('2 pods left'), notYet('1 pod left')]);
    let error: unknown;
    const p = waitFor({ clock, timeoutMs: 2500, intervalMs: 1000, what: 'the pods to go' }, check).catch(
      (e: unknown) => {
        error = e;
      },
    );
    await advance(1000);
    await advance(1000);
    expect(at).toEqual([0, 1000, 2000]);
    await advance(500); // the pause after the check at 2000 is 501 ms, not 1000
    expect(at).toEqual([0, 1000, 2000]);
    await advance(1);
    await p;
    expect(at).toEqual([0, 1000, 2000, 2501]);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const e = error as WaitTimeoutError;
    expect(e.message).toBe('timed out after 3s waiting for the pods to go; last seen: 1 pod left');
    expect(e.state).toBe('1 pod left');
    expect(e.what).toBe('the pods to go');
  });

  it("takes an absolute deadline, and a caller's own timeout error given the last state", async () => {
    const { clock, advance } = manualClock();
    await advance(10_000);
    const { at, check } = scripted<never>(clock, [notYet('Terminating')]);
    let error: unknown;
    const p = waitFor(
      { clock, deadline: 12_000, intervalMs: 1500, what: 'ns', timeoutError: (s) => new Error(`still ${s}`) },
      check,
    ).catch((e: unknown) => {
      error = e;
    });
    await advance(1500);
    await advance(501);
    await p;
    expect(at).toEqual([10_000, 11_500, 12_001]);
    expect((error as Error).message).toBe('still Terminating');
  });

  it('tells progress each state seen while waiting, not the one at the deadline', async () => {
    const { clock, advance } = manualClock();
    const seen: string[] = [];
    const { check } = scripted<never>(clock, [notYet('one'), notYet('two'), notYet('three'), notYet('four')]);
    let error: unknown;
    const p = waitFor(
      { clock, timeoutMs: 2000, intervalMs: 1000, what: 'x', progress: (s) => seen.push(s) },
      check,
    ).catch((e: unknown) => {
      error = e;
    });
    await advance(1000);
    await advance(1000);
    await advance(1);
    await p;
    expect(seen).toEqual(['one', 'two', 'three']);
    expect((error as WaitTimeoutError).state).toBe('four');
    const quiet = scripted(clock, [ready('at once')]);
    const lines: string[] = [];
    expect(
      await waitFor(
        { clock, timeoutMs: 2000, intervalMs: 1000, what: 'x', progress: (s) => lines.push(s) },
        quiet.check,
      ),
    ).toBe('at once');
    expect(lines).toEqual([]);
  });

  it('an abort ends the pause at once and no check runs after it', async () => {
    const { clock, advance } = manualClock();
    const ac = new AbortController();
    const { at, check } = scripted<never>(clock, [notYet('waiting')]);
    let out: unknown;
    const p = waitFor({ clock, timeoutMs: 60_000, intervalMs: 1000, signal: ac.signal, what: 'x' }, check).catch(
      (e: unknown) => {
        out = e;
      },
    );
    await advance(250);
    await advance(250);
    expect(at).toEqual([0, 250]); // the next pause is 500 ms: the abort comes halfway through it
    ac.abort(new Error('interrupted'));
    await p;
    expect((out as Error).message).toBe('aborted'); // the manual clock's rejection (the real clock rejects with the signal's reason)
    await advance(5000);
    expect(at).toEqual([0, 250]);
  });

  it('a check that throws ends the wait with its error', async () => {
    const { clock, advance } = manualClock();
    let calls = 0;
    const r = await settle(
      waitFor({ clock, timeoutMs: 60_000, intervalMs: 1000, what: 'x' }, async () => {
        if (++calls === 2) throw new Error('403 Forbidden');
        return notYet('no');
      }),
      advance,
      250,
    );
    expect((r.error as Error).message).toBe('403 Forbidden');
    expect(calls).toBe(2);
  });

  it('spends its pauses through a custom pause when given one (a watch, which a change ends early), with the whole interval from the first and the signal', async () => {
    const { clock, advance } = manualClock();
    const pauses: number[] = [];
    const ac = new AbortController();
    const { check } = scripted(clock, [notYet('a'), notYet('b'), ready('done')]);
    const r = await settle(
      waitFor(
        {
          clock,
          timeoutMs: 60_000,
          intervalMs: 5000,
          signal: ac.signal,
          what: 'x',
          pause: async (ms, signal) => {
            expect(signal).toBe(ac.signal);
            pauses.push(ms);
          },
        },
        check,
      ),
      advance,
      1,
    );
    expect(r.value).toBe('done');
    expect(pauses).toEqual([5000, 5000]);
  });
});

describe("the real clock's sleep", () => {
  it("leaves no listener on the signal once the time is up (a wait's pauses share one signal)", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 3; i++) await realClock.sleep(1, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const p = realClock.sleep(60_000, ac.signal);
    ac.abort(new Error('interrupted'));
    await expect(p).rejects.toThrow('interrupted');
  });
});

describe('watchUntil (the pause of a wait that watches)', () => {
  /** A watch that delivers `events` at once, then stays open until aborted (or ends at once with `ends`). */
  function fakeWatch(events: WatchEvent[], ends = false) {
    const queries: Record<string, unknown>[] = [];
    const kube = {
      async watch(
        _path: string,
        query: Record<string, unknown>,
        onEvent: (e: WatchEvent) => void,
        signal?: AbortSignal,
      ) {
        queries.push(query);
        for (const e of events) onEvent(e);
        if (ends) return;
        await new Promise<void>((resolve) => {
          if (signal?.aborted) resolve();
          signal?.addEventListener('abort', () => resolve(), { once: true });
        });
      },
    } as unknown as Kube;
    return { kube, queries };
  }
  const ev = (type: WatchEvent['type'], name: string): WatchEvent => ({ type, object: { metadata: { name } } });
  const noLog = () => {};

  it('ends early at the first event it accepts', async () => {
    const { clock } = manualClock();
    const { kube, queries } = fakeWatch([ev('MODIFIED', 'a'), ev('DELETED', 'job')]);
    await watchUntil(
      { kube, clock },
      { path: '/p', query: { fieldSelector: 'metadata.name=job' }, until: (e) => e.type === 'DELETED', log: noLog },
      5000,
      undefined,
    );
    expect(clock.now()).toBe(0);
    expect(queries).toEqual([{ fieldSelector: 'metadata.name=job', timeoutSeconds: 5 }]);
  });

  it('otherwise lasts its time on the clock, even when the watch ends early or fails', async () => {
    for (const kubeOf of [
      () => fakeWatch([ev('MODIFIED', 'a')]).kube,
      () => fakeWatch([], true).kube,
      () =>
        ({
          watch: async () => {
            throw new Error('403');
          },
        }) as unknown as Kube,
    ]) {
      const { clock, advance } = manualClock();
      const logged: string[] = [];
      let ended = false;
      const p = watchUntil(
        { kube: kubeOf(), clock },
        { path: '/p', query: {}, until: (e) => e.type === 'DELETED', log: (m) => logged.push(m) },
        5000,
        undefined,
      ).then(() => {
        ended = true;
      });
      await advance(4999);
      expect(ended).toBe(false);
      await advance(1);
      await p;
      expect(ended).toBe(true);
    }
  });

  it("rejects with the signal's reason when it aborts", async () => {
    const { clock, advance } = manualClock();
    const ac = new AbortController();
    const p = watchUntil(
      { kube: fakeWatch([]).kube, clock },
      { path: '/p', query: {}, until: () => false, log: noLog },
      5000,
      ac.signal,
    );
    await advance(1000);
    ac.abort(new Error('interrupted'));
    await expect(p).rejects.toThrow('interrupted');
    await expect(
      watchUntil(
        { kube: fakeWatch([]).kube, clock },
        { path: '/p', query: {}, until: () => false, log: noLog },
        5000,
        ac.signal,
      ),
    ).rejects.toThrow('interrupted');
  });
});

describe("the CRD wait's judgement", () => {
  const crd = (established: string, versions: { name: string; served: boolean }[], deleting = false) => ({
    metadata: { name: 'x', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { versions },
    status: { conditions: [{ type: 'Established', status: established }] },
  });
  it('says why a CRD is not ready: missing, being deleted, not Established, or a version not served', () => {
    expect(crdNotReady(undefined, ['v1'])).toBe('not found');
    expect(crdNotReady(crd('True', [{ name: 'v1', served: true }], true), ['v1'])).toBe('being deleted');
    expect(crdNotReady(crd('False', [{ name: 'v1', served: true }]), ['v1'])).toBe('not Established');
    expect(
      crdNotReady(
        crd('True', [
          { name: 'v1', served: true },
          { name: 'v2', served: false },
        ]),
        ['v1', 'v2'],
      ),
    ).toBe('not serving v2');
    expect(crdNotReady(crd('True', [{ name: 'v1', served: true }]), ['v1'])).toBeUndefined();
    expect(crdNotReady(crd('True', []), [])).toBeUndefined();
  });
});
