/**
 * The fault proxy's decisions (test/support/fault-decide.ts): repeatable from a seed, the rate
 * holds, watches are spared unless asked, every kind is reachable, and the counters add up.
 */
import { describe, expect, it } from 'vitest';
import {
  decideFault,
  defaultFaultKinds,
  emptyStats,
  isToolRequest,
  failedByFault,
  faultBody,
  faultKinds,
  faultStatus,
  isWatchRequest,
  recordDecision,
  seededRandom,
  type FaultKind,
  type FaultPolicy,
} from '../../support/fault-decide.ts';

const all: FaultKind[] = ['throttle', 'error500', 'unavailable', 'reset', 'delay', 'lostResponse', 'dropConnection'];
const list = '/apis/split.smi-spec.io/v1alpha3/namespaces/a/trafficsplits?limit=500';

function run(policy: FaultPolicy, seed: number, n: number, url = list): (FaultKind | undefined)[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => decideFault(policy, 'GET', url, r));
}

describe('seededRandom', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = seededRandom(42),
      b = seededRandom(42),
      c = seededRandom(43);
    const sa = Array.from({ length: 5 }, a),
      sb = Array.from({ length: 5 }, b),
      sc = Array.from({ length: 5 }, c);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const r = seededRandom(7);
    const xs = Array.from({ length: 20_000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

describe('isWatchRequest', () => {
  const rows: [string, boolean, string][] = [
    ['/api/v1/namespaces/a/pods?watch=true&resourceVersion=5', true, 'watch=true query'],
    ['/apis/apps/v1/deployments?watch=1', true, 'watch=1 query (client-go style)'],
    ['/api/v1/watch/namespaces/a/pods', true, 'legacy /watch/ path on the core group'],
    ['/apis/apps/v1/watch/deployments', true, 'legacy /watch/ path on a named group'],
    ['/api/v1/namespaces/a/pods?watch=false', false, 'watch=false is a list'],
    ['/api/v1/namespaces/watch/pods', false, 'a namespace named "watch" is not a watch'],
    [list, false, 'a paginated list'],
  ];
  for (const [url, want, why] of rows)
    it(`${want ? 'watch' : 'not a watch'}: ${why}`, () => expect(isWatchRequest(url)).toBe(want));
});

describe('decideFault', () => {
  it('replays the same faults for the same seed', () => {
    const p: FaultPolicy = { rate: 0.3, kinds: all };
    expect(run(p, 9, 200)).toEqual(run(p, 9, 200));
    expect(run(p, 9, 200)).not.toEqual(run(p, 10, 200));
  });

  it('faults about `rate` of the requests', () => {
    const got = run({ rate: 0.3, kinds: all }, 1, 10_000).filter(Boolean).length;
    expect(got).toBeGreaterThan(2_800);
    expect(got).toBeLessThan(3_200);
  });

  it('never faults at rate 0 and always at rate 1', () => {
    expect(run({ rate: 0, kinds: all }, 1, 500).every((f) => f === undefined)).toBe(true);
    expect(run({ rate: 1, kinds: all }, 1, 500).every((f) => f !== undefined)).toBe(true);
  });

  it('reaches every configured kind, and only those', () => {
    const seen = new Set(run({ rate: 1, kinds: all }, 3, 1_000));
    expect([...seen].sort()).toEqual([...all].sort());
    expect(new Set(run({ rate: 1, kinds: ['unavailable'] }, 3, 100))).toEqual(new Set(['unavailable']));
  });

  it('spares watches unless faultWatches is set', () => {
    const watch = '/api/v1/pods?watch=true';
    expect(run({ rate: 1, kinds: all }, 1, 50, watch).every((f) => f === undefined)).toBe(true);
    expect(run({ rate: 1, kinds: all, faultWatches: true }, 1, 50, watch).every((f) => f !== undefined)).toBe(true);
  });

  it('spares requests the match function excludes, without consuming randomness', () => {
    const p: FaultPolicy = { rate: 0.5, kinds: all, match: (m) => m !== 'GET' };
    const r = seededRandom(5);
    expect(decideFault(p, 'GET', list, r)).toBeUndefined();
    const next = seededRandom(5);
    expect(decideFault(p, 'POST', list, r)).toBe(decideFault(p, 'POST', list, next));
  });

  it('can target only the tool itself (no User-Agent), sparing helm and client-go', () => {
    const p: FaultPolicy = { rate: 1, kinds: all, match: isToolRequest };
    expect(decideFault(p, 'GET', list, seededRandom(1))).toBeDefined();
    expect(decideFault(p, 'GET', list, seededRandom(1), 'Helm/3.17.3')).toBeUndefined();
    expect(
      decideFault(p, 'GET', list, seededRandom(1), 'kubectl/v1.36.0 (linux/amd64) kubernetes/abc'),
    ).toBeUndefined();
  });

  it('does nothing with an empty kind list', () => {
    expect(run({ rate: 1, kinds: [] }, 1, 20).every((f) => f === undefined)).toBe(true);
  });
});

describe('stats and answers', () => {
  it('counts requests, forwards (delays are forwarded) and each kind', () => {
    const s = emptyStats();
    const seq: (FaultKind | undefined)[] = [
      undefined,
      'throttle',
      'delay',
      'reset',
      'unavailable',
      'error500',
      undefined,
    ];
    for (const f of seq) recordDecision(s, 'GET', `${list}&x=1`, f);
    expect(s.requests).toBe(7);
    expect(s.forwarded).toBe(3);
    expect(s.injected).toEqual({
      throttle: 1,
      error500: 1,
      unavailable: 1,
      reset: 1,
      delay: 1,
      lostResponse: 0,
      dropConnection: 0,
    });
    expect(failedByFault(s)).toBe(4);
    expect(s.faulted[0]).toBe('GET /apis/split.smi-spec.io/v1alpha3/namespaces/a/trafficsplits');
  });

  it('counts a lost response as forwarded (the server did the work) and as a failure the client retries', () => {
    const s = emptyStats();
    recordDecision(s, 'POST', '/api/v1/namespaces/a/configmaps', 'lostResponse');
    expect(s).toMatchObject({ requests: 1, forwarded: 1 });
    expect(failedByFault(s)).toBe(1);
  });

  it('the default kinds are the issue list; lostResponse is opt-in', () => {
    expect([...defaultFaultKinds].sort()).toEqual(['delay', 'error500', 'reset', 'throttle', 'unavailable']);
  });

  it('keeps at most 50 faulted request names', () => {
    const s = emptyStats();
    for (let i = 0; i < 80; i++) recordDecision(s, 'GET', `/api/v1/x${i}`, 'reset');
    expect(s.faulted).toHaveLength(50);
    expect(s.faulted.at(-1)).toBe('GET /api/v1/x79');
  });

  it('answers 429 with Retry-After: 1, 500 and 503 as Status objects naming the request', () => {
    expect(faultStatus.throttle).toMatchObject({ status: 429, headers: { 'Retry-After': '1' } });
    expect(faultStatus.error500?.status).toBe(500);
    expect(faultStatus.unavailable?.status).toBe(503);
    const body = JSON.parse(faultBody('unavailable', 'GET', list));
    expect(body).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(body.message).toContain('GET /apis/split.smi-spec.io/v1alpha3/namespaces/a/trafficsplits');
    expect(faultBody('reset', 'GET', list)).toBe('');
  });

  it('documents every kind with its reason', () => {
    expect(faultKinds.map((k) => k.kind).sort()).toEqual([...all].sort());
    for (const k of faultKinds) expect(k.reason.length).toBeGreaterThan(10);
  });
});
