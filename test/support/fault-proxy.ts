/**
 * A fault-injecting HTTPS proxy between the tool and the real API server, for reliability tests.
 * It speaks what the real server speaks: HTTP/2 (ALPN h2) and HTTP/1.1, so a fault test covers the
 * transport the tool uses against the real server (stats.toolProtocols counts what the tool used;
 * expectRealTransport() checks it against the real server's).
 *
 * - Loopback only (listens on 127.0.0.1, random port) and bounded: it closes itself after
 *   `maxSeconds` or `maxRequests`, whichever comes first, so a forgotten proxy cannot linger.
 * - Terminates TLS with a certificate signed by the local cluster CA (fault-cert.ts), so a
 *   kubeconfig carrying the cluster CA trusts it.
 * - Forwards to the real server: with the admin client certificate when the client sent no
 *   Authorization header, else with the client's Authorization header and no client certificate
 *   (a ServiceAccount token keeps its identity).
 * - Injects faults at `rate` from a seeded PRNG (fault-decide.ts): 429 + Retry-After: 1, 500, 503,
 *   connection reset, or a delay before forwarding; never on watches unless `faultWatches`. Opt-in:
 *   `lostResponse` forwards the request and then resets instead of answering; `dropConnection`
 *   drops the whole connection (over HTTP/2: every request multiplexed on it). A `reset` over HTTP/2
 *   resets the request's stream (RST_STREAM), the one request, as a reset connection does over 1.1.
 */
import fs from 'node:fs/promises';
import https from 'node:https';
import http2 from 'node:http2';
import type http from 'node:http';
import type net from 'node:net';
import { expect } from 'vitest';
import {
  decideFault,
  defaultFaultKinds,
  emptyStats,
  faultBody,
  faultStatus,
  isToolRequest,
  recordDecision,
  seededRandom,
  type FaultKind,
  type FaultPolicy,
  type FaultStats,
} from './fault-decide.ts';
import { loadUpstream, signServingCert, writeKubeconfig } from './fault-cert.ts';

export interface FaultProxyOptions {
  rate: number;
  seed: number;
  kinds?: readonly FaultKind[];
  /** Pause before forwarding a `delay` fault (default 400 ms). */
  delayMs?: number;
  faultWatches?: boolean;
  match?: FaultPolicy['match'];
  /** The proxy closes itself after this long (default 600 s). */
  maxSeconds?: number;
  /** ... or after this many requests (default 50,000). */
  maxRequests?: number;
  /** Write the returned kubeconfig with this bearer token instead of the admin certificate. */
  token?: string;
}

export interface FaultProxy {
  url: string;
  kubeconfigPath: string;
  stats: FaultStats;
  /** Change the rate on the fly (e.g. 0 while seeding, then faults for the run under test). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
  'trailer',
]);

/** The headers to pass on: without hop-by-hop ones, nor HTTP/2 pseudo-headers (:path, :method, ...). */
function forwardHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !hopByHop.has(k) && !k.startsWith(':')) out[k] = v;
  return out;
}

function resetSocket(socket: net.Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
/** Both response kinds, as far as the proxy uses them. */
type Res = Pick<http.ServerResponse, 'headersSent' | 'writableFinished' | 'end' | 'on' | 'destroy'> & {
  writeHead(status: number, headers?: http.OutgoingHttpHeaders): unknown;
};
const overHttp2 = (req: Req): req is http2.Http2ServerRequest => req.httpVersionMajor === 2;

/** The request fails as if its connection were reset: over HTTP/2 its stream is reset (the others on the connection live on). */
function resetRequest(req: Req): void {
  if (overHttp2(req)) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else resetSocket(req.socket);
}

/** The whole connection goes: over HTTP/2, every request multiplexed on it fails. */
function dropConnection(req: Req): void {
  if (overHttp2(req)) req.stream.session?.destroy();
  else resetSocket(req.socket);
}

/** What the tool speaks to the real API server, as the proxy counts it ('2.0' or '1.1'): a client of the tool's own, asked once. */
export async function realServerProtocol(): Promise<string> {
  const { testKube } = await import('./cluster.ts');
  const kube = await testKube();
  await kube.request({ path: '/version' });
  return kube.protocol === 'h2' ? '2.0' : '1.1';
}

/** Every request the tool sent through the proxy used the transport it uses against the real server (so the faults hit that one). */
export async function expectRealTransport(p: FaultProxy): Promise<void> {
  const want = await realServerProtocol();
  expect(
    Object.keys(p.stats.toolProtocols),
    `the tool spoke ${JSON.stringify(p.stats.toolProtocols)} to the proxy; it speaks HTTP/${want} to the real server`,
  ).toEqual([want]);
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const up = await loadUpstream();
  const target = new URL(up.server);
  const serving = await signServingCert();
  const policy: FaultPolicy = {
    rate: opts.rate,
    kinds: opts.kinds ?? defaultFaultKinds,
    faultWatches: opts.faultWatches ?? false,
    match: opts.match,
  };
  const random = seededRandom(opts.seed);
  const stats = emptyStats();
  const maxRequests = opts.maxRequests ?? 50_000;
  const adminAgent = new https.Agent({ keepAlive: true, ca: up.ca, cert: up.adminCert, key: up.adminKey });
  const tokenAgent = new https.Agent({ keepAlive: true, ca: up.ca });
  const sockets = new Set<net.Socket>();

  function forward(req: Req, response: http.ServerResponse | http2.Http2ServerResponse, loseResponse = false): void {
    const res = response as unknown as Res;
    const withToken = req.headers.authorization !== undefined;
    const upstream = https.request(
      {
        protocol: 'https:',
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...forwardHeaders(req.headers), host: target.host },
        agent: withToken ? tokenAgent : adminAgent,
      },
      (ures) => {
        if (loseResponse) {
          // The server did the work; the client never hears about it.
          ures.resume();
          ures.on('end', () => resetRequest(req));
          return;
        }
        const headers = forwardHeaders(ures.headers);
        res.writeHead(ures.statusCode ?? 502, headers);
        (res as { flushHeaders?: () => void }).flushHeaders?.();
        ures.pipe(response as NodeJS.WritableStream);
        ures.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          code: 502,
          message: `fault-proxy upstream error: ${err.message}`,
        }),
      );
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  // HTTP/2 and HTTP/1.1 on one port, by ALPN, as kube-apiserver does.
  const server = http2.createSecureServer(
    { cert: serving.cert, key: serving.key, allowHTTP1: true },
    (req: Req, response: http.ServerResponse | http2.Http2ServerResponse) => {
      const res = response as unknown as Res;
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      if (stats.requests >= maxRequests) {
        dropConnection(req);
        return;
      } // over budget: closing
      const userAgent = req.headers['user-agent'];
      const fault = decideFault(policy, method, url, random, userAgent);
      recordDecision(stats, method, url, fault);
      if (isToolRequest(method, url, userAgent))
        stats.toolProtocols[req.httpVersion] = (stats.toolProtocols[req.httpVersion] ?? 0) + 1;
      if (stats.requests >= maxRequests) res.on('close', () => void close()); // the last one is answered first
      const answer = fault ? faultStatus[fault] : undefined;
      if (answer) {
        req.resume();
        res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
        res.end(faultBody(fault!, method, url));
      } else if (fault === 'reset') {
        req.resume();
        resetRequest(req);
      } else if (fault === 'dropConnection') {
        req.resume();
        dropConnection(req);
      } else if (fault === 'lostResponse') {
        forward(req, response, true);
      } else if (fault === 'delay') {
        setTimeout(() => forward(req, response), opts.delayMs ?? 400);
      } else {
        forward(req, response);
      }
    },
  );
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = await writeKubeconfig(serving.dir, url, up, opts.token ? { token: opts.token } : 'admin');

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      clearTimeout(timer);
      const done = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await done;
      adminAgent.destroy();
      tokenAgent.destroy();
      await fs.rm(serving.dir, { recursive: true, force: true });
    })();
    return closing;
  }
  const timer = setTimeout(() => void close(), (opts.maxSeconds ?? 600) * 1000);
  timer.unref();

  return {
    url,
    kubeconfigPath,
    stats,
    setRate: (r) => {
      policy.rate = r;
    },
    close,
  };
}
