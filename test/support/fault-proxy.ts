/**
 * A fault-injecting HTTPS proxy between the tool and the real API server, for reliability tests.
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
 *   `lostResponse` forwards the request and then resets instead of answering.
 */
import fs from 'node:fs/promises';
import https from 'node:https';
import type http from 'node:http';
import type net from 'node:net';
import { decideFault, defaultFaultKinds, emptyStats, faultBody, faultStatus, recordDecision, seededRandom, type FaultKind, type FaultPolicy, type FaultStats } from './fault-decide.ts';
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

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer']);

function forwardHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !hopByHop.has(k)) out[k] = v;
  return out;
}

function resetSocket(socket: net.Socket): void {
  try { socket.resetAndDestroy(); } catch { socket.destroy(); }
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const up = await loadUpstream();
  const target = new URL(up.server);
  const serving = await signServingCert();
  const policy: FaultPolicy = { rate: opts.rate, kinds: opts.kinds ?? defaultFaultKinds, faultWatches: opts.faultWatches ?? false, match: opts.match };
  const random = seededRandom(opts.seed);
  const stats = emptyStats();
  const maxRequests = opts.maxRequests ?? 50_000;
  const adminAgent = new https.Agent({ keepAlive: true, ca: up.ca, cert: up.adminCert, key: up.adminKey });
  const tokenAgent = new https.Agent({ keepAlive: true, ca: up.ca });
  const sockets = new Set<net.Socket>();

  function forward(req: http.IncomingMessage, res: http.ServerResponse, loseResponse = false): void {
    const withToken = req.headers.authorization !== undefined;
    const upstream = https.request({
      protocol: 'https:', hostname: target.hostname, port: target.port, method: req.method, path: req.url,
      headers: { ...forwardHeaders(req.headers), host: target.host }, agent: withToken ? tokenAgent : adminAgent,
    }, (ures) => {
      if (loseResponse) {
        // The server did the work; the client never hears about it.
        ures.resume();
        ures.on('end', () => resetSocket(req.socket));
        return;
      }
      const headers = forwardHeaders(ures.headers);
      res.writeHead(ures.statusCode ?? 502, headers);
      res.flushHeaders();
      ures.pipe(res);
      ures.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 502, message: `fault-proxy upstream error: ${err.message}` }));
    });
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.pipe(upstream);
  }

  const server = https.createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (stats.requests >= maxRequests) { resetSocket(req.socket); return; } // over budget: closing
    const fault = decideFault(policy, method, url, random, req.headers['user-agent']);
    recordDecision(stats, method, url, fault);
    if (stats.requests >= maxRequests) res.on('close', () => void close()); // the last one is answered first
    const answer = fault ? faultStatus[fault] : undefined;
    if (answer) {
      req.resume();
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      res.end(faultBody(fault!, method, url));
    } else if (fault === 'reset') {
      req.resume();
      resetSocket(req.socket);
    } else if (fault === 'lostResponse') {
      forward(req, res, true);
    } else if (fault === 'delay') {
      setTimeout(() => forward(req, res), opts.delayMs ?? 400);
    } else {
      forward(req, res);
    }
  });
  server.on('secureConnection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
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

  return { url, kubeconfigPath, stats, setRate: (r) => { policy.rate = r; }, close };
}
