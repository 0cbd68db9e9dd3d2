import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { realClock, type Clock } from '../clock.ts';
import { forPlainHttp, minifiedKubeconfig } from './kubeconfig.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method?: Method;
  path: string;
  query?: Query;
  body?: unknown;
  /** For PATCH: application/merge-patch+json (default), application/json-patch+json, application/apply-patch+yaml. */
  contentType?: string;
  /** Do not retry this request (the caller handles failures itself). */
  noRetry?: boolean;
  /** The caller does not read a successful answer: it is not parsed (a restore's thousands of creates). */
  discardBody?: boolean;
}

/** A non-2xx answer from the API server, with its Status reason (NotFound, AlreadyExists, ...). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: unknown;
  readonly path: string;
  constructor(status: number, path: string, body: unknown) {
    const st = body as { message?: string; reason?: string } | undefined;
    super(`${status} ${st?.reason ?? ''} ${path}: ${st?.message ?? String(body).slice(0, 200)}`.replace(/\s+/g, ' '));
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = st?.reason ?? '';
    this.body = body;
    this.path = path;
  }
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  metadata?: { continue?: string; resourceVersion?: string };
  items: T[];
}

/** What the rest of the tool needs from the API server. The only implementation talks HTTP. */
export interface Kube {
  readonly server: string;
  /** The kubeconfig context this client was built from (the run's: --context, else the current one at start). */
  readonly context: string;
  /**
   * The kubeconfig of exactly that context, as loaded at start, for child commands (a function, so
   * that no JSON.stringify of the client carries its credentials).
   */
  pinnedKubeconfig(): string;
  /** The API server's time now (ms): its last Date header plus the time since (local clocks may be off). */
  serverNow(): number;
  request<T = unknown>(req: KubeRequest): Promise<T>;
  /** Streams a watch; resolves when the server ends it or the signal aborts. */
  watch<T = KubeObject>(path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void>;
  /** Retries performed so far (for reports and fault tests). */
  readonly retries: number;
  /**
   * One request as given (path with its query, body bytes, content headers), with the tool's own
   * credentials, answered as it came: for the dry-run proxy (upgrade/dry-run-proxy.ts). No retries.
   */
  forward?(req: { method: string; path: string; headers: Record<string, string>; body?: Buffer | undefined }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetry: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 };

const retryableStatus = new Set([429, 500, 502, 503, 504]);
const retryableCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'EAI_AGAIN']);

export function isRetryable(err: unknown): boolean {
  if (err instanceof KubeApiError) return retryableStatus.has(err.status);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && retryableCodes.has(code) || /socket hang up/.test(String((err as Error)?.message));
}

/** Backoff for attempt n (0-based): exponential with full jitter, or the server's Retry-After. */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfterSeconds?: number, random = Math.random): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)) {
    return Math.min(policy.maxDelayMs, Math.max(0, retryAfterSeconds * 1000));
  }
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(cap / 2 + random() * (cap / 2));
}

export function buildPath(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

interface RawResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

/**
 * Creates the API client from a loaded kubeconfig: TLS and credentials come from
 * client-node's KubeConfig (including exec plugins); requests go over one keep-alive agent.
 */
/** How long a watch may hear nothing (no event, no bookmark) before it is taken for dead. */
export const watchIdleMs = 150_000;

export async function createKube(kc: KubeConfig, opts: { clock?: Clock; retry?: RetryPolicy; log?: (m: string) => void; maxSockets?: number; watchIdleMs?: number } = {}): Promise<Kube> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const base = new URL(cluster.server);
  const clock = opts.clock ?? realClock;
  const policy = opts.retry ?? defaultRetry;
  const isHttps = base.protocol === 'https:';
  // Plain http (which kubectl allows): client-node would refuse to build its agent; ours is used anyway.
  const auth = isHttps ? kc : forPlainHttp(kc);
  const tlsOpts: https.RequestOptions = {};
  await auth.applyToHTTPSOptions(tlsOpts);
  const makeAgent = (maxSockets: number) => (isHttps
    ? new https.Agent({ keepAlive: true, maxSockets, ca: tlsOpts.ca, cert: tlsOpts.cert, key: tlsOpts.key, rejectUnauthorized: tlsOpts.rejectUnauthorized, servername: tlsOpts.servername })
    : new http.Agent({ keepAlive: true, maxSockets }));
  const agent = makeAgent(opts.maxSockets ?? 32);
  // A watch holds its connection for minutes: watches get their own agent, without a socket limit,
  // so fifty of them (a re-roll over fifty namespaces) never leave the requests waiting for a socket.
  const watchAgent = makeAgent(Infinity);
  let retries = 0;
  // The server's clock, from the Date header of its last answer and when that came (a lease is judged on it).
  let dated: { server: number; local: number } | undefined;
  const noteDate = (h: http.IncomingHttpHeaders) => {
    const server = Date.parse(h.date ?? '');
    if (Number.isFinite(server)) dated = { server, local: clock.now() };
  };

  // Credentials that can change (an exec plugin's or an auth provider's token) are asked for again
  // per request, so client-node refreshes them when they expire; static ones (client certificate,
  // token, basic auth) once: a restore sends thousands of requests, and each ask costs CPU.
  const user = kc.getCurrentUser();
  const refreshing = Boolean(user?.exec || user?.authProvider);
  let staticHeaders: Promise<Record<string, string>> | undefined;
  function headers(): Promise<Record<string, string>> {
    if (refreshing) return askHeaders();
    staticHeaders ??= askHeaders().catch((err: unknown) => { staticHeaders = undefined; throw err; });
    return staticHeaders;
  }

  async function askHeaders(): Promise<Record<string, string>> {
    const o: https.RequestOptions = { headers: {} };
    await auth.applyToHTTPSOptions(o);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string') h[k] = v;
    if (o.auth) h.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
    return h;
  }

  function send(method: Method, path: string, body: string | undefined, contentType: string | undefined, extra: Record<string, string>): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const lib = isHttps ? https : http;
      const req = lib.request({
        protocol: base.protocol, hostname: base.hostname, port: base.port, method, agent,
        path: (base.pathname.replace(/\/$/, '')) + path,
        headers: { Accept: 'application/json', ...extra, ...(body !== undefined ? { 'Content-Type': contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}) },
        timeout: 60_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { noteDate(res.headers); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }); });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async function request<T>(r: KubeRequest): Promise<T> {
    const method = r.method ?? 'GET';
    const path = buildPath(r.path, r.query);
    const contentType = r.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : undefined);
    const body = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    for (let attempt = 0; ; attempt++) {
      let retryAfter: number | undefined;
      try {
        const res = await send(method, path, body, contentType, await headers());
        if (res.status >= 200 && res.status < 300) return (res.body && !r.discardBody ? JSON.parse(res.body) : undefined) as T;
        let parsed: unknown = res.body;
        try { parsed = JSON.parse(res.body); } catch { /* not JSON */ }
        const ra = res.headers['retry-after'];
        retryAfter = ra !== undefined ? Number(ra) : undefined;
        throw new KubeApiError(res.status, `${method} ${r.path}`, parsed);
      } catch (err) {
        if (r.noRetry || !isRetryable(err) || attempt + 1 >= policy.attempts) throw err;
        retries++;
        const wait = backoffMs(attempt, policy, retryAfter);
        opts.log?.(`retrying ${method} ${r.path} in ${wait}ms after: ${(err as Error).message}`);
        await clock.sleep(wait);
      }
    }
  }

  async function watch<T>(path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
    const full = buildPath(path, { ...query, watch: true, allowWatchBookmarks: true });
    const extra = await headers();
    // The server sends a bookmark about every minute; silence for longer means a dead connection
    // (a half-open TCP stream never ends by itself). The watch then ends as if the server had ended
    // it, and callers resume from their last resourceVersion as they do after any end.
    const idleMs = opts.watchIdleMs ?? watchIdleMs;
    await new Promise<void>((resolve, reject) => {
      const lib = isHttps ? https : http;
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        if (err) { req.destroy(); reject(err); } else resolve();
      };
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => { opts.log?.(`watch ${path}: nothing from the server for ${idleMs / 1000}s; reconnecting`); req.destroy(); finish(); }, idleMs);
        idle.unref();
      };
      const req = lib.request({ protocol: base.protocol, hostname: base.hostname, port: base.port, method: 'GET', agent: watchAgent, path: base.pathname.replace(/\/$/, '') + full, headers: { Accept: 'application/json', ...extra }, signal }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => { let b: unknown = Buffer.concat(chunks).toString(); try { b = JSON.parse(String(b)); } catch { /* keep text */ } finish(new KubeApiError(res.statusCode ?? 0, `WATCH ${path}`, b)); });
          return;
        }
        arm();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (settled) return;
          arm();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(line) as WatchEvent<T>;
            } catch {
              return finish(new Error(`watch ${path}: the server sent a line that is not a JSON watch event (${line.slice(0, 80)}${line.length > 80 ? '...' : ''})`));
            }
            try {
              onEvent(event);
            } catch (err) {
              return finish(err as Error);
            }
          }
        });
        res.on('end', () => finish());
        res.on('error', (e) => finish(signal?.aborted ? undefined : e));
      });
      req.on('error', (e) => finish(signal?.aborted ? undefined : e));
      req.end();
    });
  }

  function forward(r: { method: string; path: string; headers: Record<string, string>; body?: Buffer | undefined }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return headers().then((auth) => new Promise((resolve, reject) => {
      const req = (isHttps ? https : http).request({ protocol: base.protocol, hostname: base.hostname, port: base.port, method: r.method, agent, path: base.pathname.replace(/\/$/, '') + r.path,
        headers: { ...r.headers, ...auth, ...(r.body?.length ? { 'Content-Length': r.body.length } : {}) }, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(r.body?.length ? r.body : undefined);
    }));
  }

  const pinned = minifiedKubeconfig(kc);
  return {
    server: cluster.server,
    context: kc.getCurrentContext(),
    pinnedKubeconfig: () => pinned,
    serverNow: () => (dated ? dated.server + (clock.now() - dated.local) : clock.now()),
    request,
    watch,
    forward,
    get retries() { return retries; },
  };
}
