/**
 * How much of a create's client CPU is the HTTP/1.1 stack? The same N ConfigMap creates, C in
 * flight, over Node's https.Agent (keep-alive, C sockets: what the tool uses) and over one HTTP/2
 * session (the API server offers h2 by ALPN), each in its own run; prints the client's CPU per
 * request. It is a probe for the restore figures of docs/performance.md, not a benchmark of the tool.
 *
 *   node bench/http2-probe.ts [--requests 2000] [--concurrency 32] [--rounds 2]
 */
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { mapLimit } from '../src/concurrency.ts';
import { kubeconfig } from './local.ts';
import { createKube } from '../src/kube/client.ts';
import { collectionPath, core } from '../src/kube/paths.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
  },
});
const n = Number(args.requests);
const c = Number(args.concurrency);
const kc = loadKubeConfig({ kubeconfig });
const o: https.RequestOptions = { headers: {} };
await kc.applyToHTTPSOptions(o);
const auth = Object.fromEntries(
  Object.entries(o.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
);
const origin = new URL(kc.getCurrentCluster()!.server);
const kube = await createKube(kc);
const body = (mode: string, i: number) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${mode}-${i}`, labels: { app: `app-${i}` }, annotations: { note: `object ${i}` } },
    data: { k: 'x'.repeat(200) },
  });

function overH1(ns: string): Promise<unknown> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: c, ca: o.ca, cert: o.cert, key: o.key });
  return mapLimit(
    Array.from({ length: n }, (_, i) => i),
    c,
    (i) =>
      new Promise<void>((resolve, reject) => {
        const b = body('h1', i);
        const req = https.request(
          {
            hostname: origin.hostname,
            port: origin.port,
            method: 'POST',
            path: `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Strict`,
            agent,
            headers: {
              Accept: 'application/json',
              'Content-Type': 'application/json',
              'Content-Length': Buffer.byteLength(b),
              ...auth,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              (res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end(b);
      }),
  ).finally(() => agent.destroy());
}

function overH2(ns: string): Promise<unknown> {
  const session = http2.connect(origin.origin, { ca: o.ca, cert: o.cert, key: o.key });
  return mapLimit(
    Array.from({ length: n }, (_, i) => i),
    c,
    (i) =>
      new Promise<void>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Strict`,
          accept: 'application/json',
          'content-type': 'application/json',
          ...auth,
        });
        let status = 0;
        stream.on('response', (h) => {
          status = Number(h[':status']);
        });
        stream.resume();
        stream.on('end', () => (status < 300 ? resolve() : reject(new Error(`HTTP ${status}`))));
        stream.on('error', reject);
        stream.end(body('h2', i));
      }),
  ).finally(() => session.close());
}

for (let round = 0; round < Number(args.rounds); round++) {
  for (const [mode, fn] of [
    ['HTTP/1.1 (https.Agent)', overH1],
    ['HTTP/2 (one session)', overH2],
  ] as const) {
    const ns = `bench-h2-${Date.now().toString(36)}`;
    await kube.request({
      method: 'POST',
      path: collectionPath(core.namespaces),
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await fn(ns);
    const cpu = process.cpuUsage(cpu0);
    const ms = (cpu.user + cpu.system) / 1000;
    process.stdout.write(
      `${mode.padEnd(24)} ${n} creates, ${c} at once: ${((performance.now() - t0) / 1000).toFixed(2)} s, client CPU ${(ms / 1000).toFixed(2)} s = ${(ms / n).toFixed(3)} ms per request (load ${os.loadavg()[0]!.toFixed(1)})\n`,
    );
    await kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` });
  }
}
