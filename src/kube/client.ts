import type https from 'node:https';
import type { Readable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { realClock, type Clock } from '../clock.ts';
import { forPlainHttp, minifiedKubeconfig } from './kubeconfig.ts';
import { chooseTransport, http2RetryableCodes } from './transport.ts';
import type { HttpVersionOption, Transport } from './transport-types.ts';

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
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
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
  watch<T = KubeObject>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Retries performed so far (for reports and fault tests). */
  readonly retries: number;
  /**
   * One request as given (path with its query, body bytes, content headers), with the tool's own
   * credentials, answered as it came: for the dry-run proxy (preflight/dry-run-proxy.ts). No retries.
   */
  forward?(req: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: Buffer | undefined;
  }): Promise<{ status: number; headers: ResponseHeaders; body: Buffer }>;
  /** 'h2' or 'http/1.1' once the first request settled it (transport.ts). */
  readonly protocol?: 'h2' | 'http/1.1' | undefined;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetry: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 };

const retryableStatus = new Set([429, 500, 502, 503, 504]);
const retryableCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'EAI_AGAIN',
  ...http2RetryableCodes,
]);

export function isRetryable(err: unknown): boolean {
  if (err instanceof KubeApiError) return retryableStatus.has(err.status);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && retryableCodes.has(code)) || /socket hang up/.test(String((err as Error)?.message));
}

/** Backoff for attempt n (0-based): exponential with full jitter, or the server's Retry-After. */
export function backoffMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterSeconds?: number,
  random = Math.random,
): number {
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

/**
 * A response body, whole (events, not async iteration: it costs less CPU per request). Done at its
 * close, not its end: an HTTP/2 stream whose connection dropped ends early and only its close says
 * so (a reset code); a truncated answer then fails retryably instead of failing to parse.
 */
function readAll(body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    body.on('data', (c: Buffer) => chunks.push(c));
    body.on('end', () => {
      ended = true;
    });
    body.on('error', reject);
    body.on('close', () => {
      const rst = (body as { rstCode?: number }).rstCode;
      if (ended && !rst) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      else
        reject(
          Object.assign(
            new Error(`the connection closed before the whole answer arrived${rst ? ` (RST_STREAM code ${rst})` : ''}`),
            { code: rst ? 'ERR_HTTP2_STREAM_ERROR' : 'ECONNRESET' },
          ),
        );
    });
  });
}

/** A response's headers, as either transport gives them (HTTP/2's without its pseudo-headers). */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

interface RawResponse {
  status: number;
  headers: ResponseHeaders;
  body: string;
}

/** How long a watch may hear nothing (no event, no bookmark) before it is taken for dead. */
export const watchIdleMs = 150_000;

export interface KubeOptions {
  clock?: Clock;
  retry?: RetryPolicy;
  log?: (m: string) => void;
  /** Ordinary requests in flight at most over HTTP/1.1 (HTTP/2 multiplexes them). */
  maxSockets?: number;
  watchIdleMs?: number;
  /** 'auto': HTTP/2 where the server offers it (TLS, ALPN), else HTTP/1.1; '1.1' forces HTTP/1.1 (transport.ts). */
  http?: HttpVersionOption | undefined;
}

/**
 * Creates the API client from a loaded kubeconfig: TLS and credentials come from client-node's
 * KubeConfig (including exec plugins); requests go over HTTP/2 where the server offers it, else over
 * HTTP/1.1 keep-alive connections (transport.ts).
 */
export async function createKube(kc: KubeConfig, opts: KubeOptions = {}): Promise<Kube> {
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
  const transport = chooseTransport(
    {
      base,
      maxSockets: opts.maxSockets ?? 32,
      tls: {
        ca: tlsOpts.ca,
        cert: tlsOpts.cert,
        key: tlsOpts.key,
        rejectUnauthorized: tlsOpts.rejectUnauthorized,
        servername: tlsOpts.servername ?? undefined,
      },
    },
    { http: opts.http },
  );
  let retries = 0;
  // The server's clock, from the Date header of its last answer and when that came (a lease is judged on it).
  let dated: { server: number; local: number } | undefined;
  const noteDate = (h: ResponseHeaders) => {
    const server = Date.parse(String(h.date ?? ''));
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
    staticHeaders ??= askHeaders().catch((err: unknown) => {
      staticHeaders = undefined;
      throw err;
    });
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

  async function send(
    method: Method,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    extra: Record<string, string>,
  ): Promise<RawResponse> {
    const res = await transport.open({
      method,
      path,
      body,
      timeoutMs: 60_000,
      headers: {
        Accept: 'application/json',
        ...extra,
        ...(body !== undefined ? { 'Content-Type': contentType ?? 'application/json' } : {}),
      },
    });
    const text = (await readAll(res.body)).toString('utf8');
    noteDate(res.headers);
    return { status: res.status, headers: res.headers, body: text };
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
        if (res.status >= 200 && res.status < 300)
          return (res.body && !r.discardBody ? JSON.parse(res.body) : undefined) as T;
        let parsed: unknown = res.body;
        try {
          parsed = JSON.parse(res.body);
        } catch {
          /* not JSON */
        }
        const ra = res.headers['retry-after'];
        retryAfter = ra !== undefined ? Number(Array.isArray(ra) ? ra[0] : ra) : undefined;
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

  async function watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const full = buildPath(path, { ...query, watch: true, allowWatchBookmarks: true });
    const extra = await headers();
    // The server sends a bookmark about every minute; silence for longer means a dead connection
    // (a half-open TCP stream never ends by itself). The watch then ends as if the server had ended
    // it, and callers resume from their last resourceVersion as they do after any end.
    const idleMs = opts.watchIdleMs ?? watchIdleMs;
    let res: Awaited<ReturnType<Transport['open']>>;
    try {
      res = await transport.open({
        method: 'GET',
        path: full,
        headers: { Accept: 'application/json', ...extra },
        signal,
        long: true,
      });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    if (res.status >= 300) {
      let b: unknown = (await readAll(res.body)).toString();
      try {
        b = JSON.parse(String(b));
      } catch {
        /* keep text */
      }
      throw new KubeApiError(res.status, `WATCH ${path}`, b);
    }
    const stream: Readable = res.body;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        if (!stream.readableEnded) stream.destroy();
        if (err) reject(err);
        else resolve();
      };
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          opts.log?.(`watch ${path}: nothing from the server for ${idleMs / 1000}s; reconnecting`);
          finish();
        }, idleMs);
        idle.unref();
      };
      arm();
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
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
            return finish(
              new Error(
                `watch ${path}: the server sent a line that is not a JSON watch event (${line.slice(0, 80)}${line.length > 80 ? '...' : ''})`,
              ),
            );
          }
          try {
            onEvent(event);
          } catch (err) {
            return finish(err as Error);
          }
        }
      });
      stream.on('end', () => finish());
      // A stream closed without an end or an error (an HTTP/2 stream reset with NO_ERROR) ends like an end; an error in the same turn wins.
      stream.on('close', () => setImmediate(() => finish()));
      stream.on('error', (e) => finish(signal?.aborted ? undefined : e));
    });
  }

  async function forward(r: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: Buffer | undefined;
  }): Promise<{ status: number; headers: ResponseHeaders; body: Buffer }> {
    const res = await transport.open({
      method: r.method,
      path: r.path,
      headers: { ...r.headers, ...(await headers()) },
      body: r.body?.length ? r.body : undefined,
      timeoutMs: 60_000,
    });
    return { status: res.status, headers: res.headers, body: await readAll(res.body) };
  }

  const pinned = minifiedKubeconfig(kc);
  return {
    server: cluster.server,
    context: kc.getCurrentContext(),
    pinnedKubeconfig: () => pinned,
    serverNow: () => (dated ? dated.server + (clock.now() - dated.local) : clock.now()),
    get protocol() {
      return transport.protocol;
    },
    request,
    watch,
    forward,
    get retries() {
      return retries;
    },
  };
}
