/**
 * The fault proxy's decisions, as pure functions: a seeded PRNG (so a failing run can be replayed
 * with the same seed), which requests may be faulted (never watches unless asked), which fault a
 * request gets, and the counters the proxy reports. No I/O here: fault-proxy.ts does the sockets.
 */

/** What the proxy can do instead of (or before) forwarding a request. */
export type FaultKind = 'throttle' | 'error500' | 'unavailable' | 'reset' | 'delay' | 'lostResponse' | 'dropConnection';

/** Every kind, with what the client sees and why it is worth injecting. */
export const faultKinds: readonly { kind: FaultKind; effect: string; reason: string }[] = [
  {
    kind: 'throttle',
    effect: '429 Too Many Requests, Retry-After: 1',
    reason: 'API priority and fairness throttles busy clients; the tool must honour Retry-After',
  },
  {
    kind: 'error500',
    effect: '500 Internal Server Error',
    reason: 'an apiserver or etcd hiccup; transient, retryable',
  },
  {
    kind: 'unavailable',
    effect: '503 Service Unavailable',
    reason: 'apiserver restarting or an aggregated API down; the classic flaky-VPN answer',
  },
  {
    kind: 'reset',
    effect: 'TCP connection reset (HTTP/1.1) or stream reset (HTTP/2), no response',
    reason: 'a VPN or load balancer dropping the request mid-way (ECONNRESET / socket hang up; RST_STREAM over HTTP/2)',
  },
  { kind: 'delay', effect: 'forwarded after a pause', reason: 'a slow link; the request still succeeds, only later' },
  {
    kind: 'dropConnection',
    effect: 'the whole connection reset: over HTTP/2, every request multiplexed on it fails at once',
    reason: 'a dropped HTTP/2 connection takes all its streams: the client must open a new one and retry each (opt-in)',
  },
  {
    kind: 'lostResponse',
    effect: 'forwarded, then the connection is reset instead of answering',
    reason:
      'the write happened but the client never heard: a retried POST meets AlreadyExists, a retried DELETE NotFound (opt-in: not in the default kinds)',
  },
];

/** The kinds used when a test does not choose: the list (429, 500, 503, reset, delay). */
export const defaultFaultKinds: readonly FaultKind[] = ['throttle', 'error500', 'unavailable', 'reset', 'delay'];

/** The HTTP answer for the kinds that answer (reset and delay do not). */
export const faultStatus: Partial<
  Record<FaultKind, { status: number; reason: string; headers: Record<string, string> }>
> = {
  throttle: { status: 429, reason: 'TooManyRequests', headers: { 'Retry-After': '1' } },
  error500: { status: 500, reason: 'InternalError', headers: {} },
  unavailable: { status: 503, reason: 'ServiceUnavailable', headers: {} },
};

/** mulberry32: a tiny, well-distributed 32-bit PRNG; the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Requests the tool itself sends: its Node HTTPS client sets no User-Agent (helm and client-go do). */
export function isToolRequest(_method: string, _url: string, userAgent: string | undefined): boolean {
  return userAgent === undefined || userAgent === '';
}

/** A watch request: `?watch=true|1` or the legacy `/watch/` path prefix. */
export function isWatchRequest(url: string): boolean {
  const u = new URL(url, 'http://x');
  const w = u.searchParams.get('watch');
  return w === 'true' || w === '1' || /^\/api(s\/[^/]+)?\/[^/]+\/watch\//.test(u.pathname);
}

export interface FaultPolicy {
  /** Probability (0..1) that an eligible request is faulted. */
  rate: number;
  /** Kinds to choose from, uniformly. */
  kinds: readonly FaultKind[];
  /** Fault watch requests too (default false: a faulted watch only tests reconnects). */
  faultWatches?: boolean;
  /** Only requests for which this returns true are eligible (default: all). `userAgent` tells the tool
   *  (Node sends none) from the helm / nginx-meshctl it runs with the same kubeconfig. */
  match?: (method: string, url: string, userAgent: string | undefined) => boolean;
}

/**
 * The fault for one request, or undefined to forward it untouched. Draws from `random` only for
 * eligible requests (one draw for the rate, one for the kind), so a seed replays the same faults
 * for the same sequence of eligible requests.
 */
export function decideFault(
  policy: FaultPolicy,
  method: string,
  url: string,
  random: () => number,
  userAgent?: string,
): FaultKind | undefined {
  if (policy.rate <= 0 || policy.kinds.length === 0) return undefined;
  if (!policy.faultWatches && isWatchRequest(url)) return undefined;
  if (policy.match && !policy.match(method, url, userAgent)) return undefined;
  if (random() >= policy.rate) return undefined;
  const i = Math.min(policy.kinds.length - 1, Math.floor(random() * policy.kinds.length));
  return policy.kinds[i];
}

/** What the proxy did, for the test's assertions and the report. */
export interface FaultStats {
  requests: number;
  forwarded: number;
  injected: Record<FaultKind, number>;
  /** `METHOD path` of the last faulted requests (at most 50), to name them in a report. */
  faulted: string[];
  /** The tool's requests (isToolRequest) by HTTP version ('2.0', '1.1'). */
  toolProtocols: Record<string, number>;
}

export function emptyStats(): FaultStats {
  return {
    requests: 0,
    forwarded: 0,
    injected: { throttle: 0, error500: 0, unavailable: 0, reset: 0, delay: 0, lostResponse: 0, dropConnection: 0 },
    faulted: [],
    toolProtocols: {},
  };
}

/** Counts one decision into `stats` (mutates it; the proxy owns one stats object). */
export function recordDecision(stats: FaultStats, method: string, url: string, fault: FaultKind | undefined): void {
  stats.requests++;
  if (fault === undefined || fault === 'delay' || fault === 'lostResponse') stats.forwarded++;
  if (fault === undefined) return;
  stats.injected[fault]++;
  stats.faulted.push(`${method} ${url.split('?')[0]}`);
  if (stats.faulted.length > 50) stats.faulted.shift();
}

/** Faults the client saw as a failure (everything but delay): what it had to retry. */
export function failedByFault(stats: FaultStats): number {
  return (
    stats.injected.throttle +
    stats.injected.error500 +
    stats.injected.unavailable +
    stats.injected.reset +
    stats.injected.lostResponse +
    stats.injected.dropConnection
  );
}

/** The Status body the API server would send for `kind` (so the client parses it as usual). */
export function faultBody(kind: FaultKind, method: string, url: string): string {
  const s = faultStatus[kind];
  if (!s) return '';
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason: s.reason,
    code: s.status,
    message: `fault-proxy injected ${s.status} for ${method} ${url.split('?')[0]}`,
  });
}
