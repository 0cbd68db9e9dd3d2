/**
 * The client's transport (src/kube/transport.ts) against local TLS servers: HTTP/2 where the server
 * offers it by ALPN, HTTP/1.1 where it does not or when forced; a server's stream limit never
 * starves the requests (another connection opens); an idle connection does not keep the process
 * alive; an answer cut short by a dropped connection fails retryably.
 */
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, type KubeOptions } from '../../../src/kube/client.ts';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.ts';
import { repoRoot } from '../../support/cluster.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-h2-'));
let cert: Buffer;
let key: Buffer;
const servers: { close(): void }[] = [];

beforeAll(async () => {
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
  ]);
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  key = fs.readFileSync(path.join(dir, 'key.pem'));
}, 30_000);

afterAll(() => {
  for (const s of servers) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function kubeconfigFor(port: number): string {
  const file = path.join(dir, `kubeconfig-${port}`);
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: ${cert.toString('base64')}}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n`,
  );
  return file;
}

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

/** An HTTP/2 server (HTTP/1.1 too, by ALPN) or an HTTPS/1.1-only one; resolves with its port and what it saw. */
async function serve(
  kind: 'h2' | 'h1',
  handler: Handler,
  settings: http2.Settings = {},
): Promise<{
  port: number;
  versions: string[];
  sessions: () => number;
  server: http2.Http2SecureServer | https.Server;
}> {
  const versions: string[] = [];
  let sessions = 0;
  const wrapped: Handler = (req, res) => {
    versions.push(req.httpVersion);
    handler(req, res);
  };
  const server =
    kind === 'h2'
      ? http2.createSecureServer({ cert, key, allowHTTP1: true, settings }, wrapped)
      : https.createServer({ cert, key }, wrapped as unknown as Parameters<typeof https.createServer>[1]);
  server.on('secureConnection', () => {
    sessions++;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    close: () => {
      (server as https.Server).closeAllConnections?.();
      server.close();
    },
  });
  return { port: (server.address() as AddressInfo).port, versions, sessions: () => sessions, server };
}

const json: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"kind":"Namespace"}');
};
const client = (port: number, opts: KubeOptions = {}) =>
  createKube(loadKubeConfig({ kubeconfig: kubeconfigFor(port) }), opts);

describe('transport', () => {
  it('speaks HTTP/2 to a server that offers it, HTTP/1.1 to one that does not, and HTTP/1.1 when told to', async () => {
    const h2 = await serve('h2', json);
    const auto = await client(h2.port);
    expect(auto.protocol).toBeUndefined(); // settled by the first request, not before
    expect(await auto.request({ path: '/a' })).toEqual({ kind: 'Namespace' });
    expect(auto.protocol).toBe('h2');
    const forced = await client(h2.port, { http: '1.1' });
    await forced.request({ path: '/b' });
    expect(forced.protocol).toBe('http/1.1');
    expect(h2.versions).toEqual(['2.0', '1.1']);

    const h1 = await serve('h1', json);
    const plain = await client(h1.port);
    await plain.request({ path: '/c' });
    expect(plain.protocol).toBe('http/1.1');
    expect(h1.versions).toEqual(['1.1']);
  });

  it("opens another connection when the server's stream limit is reached: open watches never starve a request", async () => {
    // The server allows 3 streams per connection; 5 watches that never end hold 5 of them.
    const h2 = await serve(
      'h2',
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url.includes('watch=true')) res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
        else res.end('{}');
      },
      { maxConcurrentStreams: 3 },
    );
    const kube = await client(h2.port, { watchIdleMs: 60_000 });
    await kube.request({ path: '/first' }); // the server's SETTINGS (its limit) are known from here on
    const stop = new AbortController();
    const opened: string[] = [];
    const watches = Array.from({ length: 5 }, (_, i) =>
      kube.watch(
        `/w${i}`,
        {},
        () => {
          opened.push(`w${i}`);
        },
        stop.signal,
      ),
    );
    try {
      const answer = await Promise.race([
        kube.request({ path: '/ok' }).then(() => 'answered'),
        new Promise((r) => setTimeout(() => r('still waiting'), 3000)),
      ]);
      expect(answer).toBe('answered');
      await new Promise((r) => setTimeout(r, 100));
      expect(opened).toHaveLength(5);
      expect(h2.sessions()).toBe(2); // 3 + 3 streams: five watches and the request
    } finally {
      stop.abort();
      await Promise.allSettled(watches);
    }
  });

  it('an answer cut short by a dropped connection fails retryably and is asked again, never parsed half', async () => {
    let calls = 0;
    const h2 = await serve('h2', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (calls++ === 0) {
        res.write('{"kind":"NamespaceList","items":[');
        setTimeout(() => req.stream.session?.destroy(), 50); // the connection goes mid-answer
      } else res.end('{"kind":"NamespaceList","items":[]}');
    });
    const kube = await client(h2.port, { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    expect(await kube.request({ path: '/list' })).toEqual({ kind: 'NamespaceList', items: [] });
    expect(kube.retries).toBe(1);
    expect(h2.sessions()).toBe(2);
  });

  it('an idle HTTP/2 connection does not keep the process alive', async () => {
    const h2 = await serve('h2', json);
    const script = `import { createKube } from ${JSON.stringify(path.join(repoRoot, 'src/kube/client.ts'))};
import { loadKubeConfig } from ${JSON.stringify(path.join(repoRoot, 'src/kube/kubeconfig.ts'))};
const kube = await createKube(loadKubeConfig({ kubeconfig: ${JSON.stringify(kubeconfigFor(h2.port))} }));
await kube.request({ path: '/a' });
console.log(kube.protocol);`;
    const started = Date.now();
    const r = await execa(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
      { reject: false, timeout: 20_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('h2');
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});
