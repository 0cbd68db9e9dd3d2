/** The watch stream against a local HTTP server that misbehaves: a line that is not JSON, a handler that throws, silence. */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, type Kube } from '../../../src/kube/client.ts';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-watch-'));
let server: http.Server;
let kube: Kube;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.url!.startsWith('/malformed')) res.end('{"type":"ADDED","object":{}}\n<html>proxy error</html>\n');
    else if (req.url!.startsWith('/silent'))
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n'); // then nothing, never ends
    else
      res.end(
        '{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"DELETED","object":{"metadata":{"name":"a"}}}\n',
      );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n`,
  );
  kube = await createKube(loadKubeConfig({ kubeconfig: file }), { watchIdleMs: 300 });
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('watch', () => {
  it('delivers each event and resolves when the server ends the stream', async () => {
    const types: string[] = [];
    await kube.watch('/ok', {}, (e) => types.push(e.type));
    expect(types).toEqual(['ADDED', 'DELETED']);
  });

  it('fails with a clear error on a line that is not JSON, instead of crashing the process', async () => {
    const types: string[] = [];
    await expect(kube.watch('/malformed', {}, (e) => types.push(e.type))).rejects.toThrow(
      /watch \/malformed: the server sent a line that is not a JSON watch event \(<html>proxy error/,
    );
    expect(types).toEqual(['ADDED']);
  });

  it("fails with the handler's error when the handler throws", async () => {
    await expect(
      kube.watch('/ok', {}, () => {
        throw new Error('bad object');
      }),
    ).rejects.toThrow('bad object');
  });

  it('ends a watch that hears nothing for the idle timeout, so the caller can resume', async () => {
    const started = Date.now();
    const types: string[] = [];
    await kube.watch('/silent', {}, (e) => types.push(e.type));
    expect(types).toEqual(['ADDED']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('leaves the requests their sockets however many watches stay open (a re-roll over fifty namespaces)', async () => {
    // Two sockets for requests; five watches that never end hold five connections of their own.
    const small = await createKube(loadKubeConfig({ kubeconfig: path.join(dir, 'kubeconfig') }), {
      maxSockets: 2,
      watchIdleMs: 60_000,
    });
    const stop = new AbortController();
    const watches = Array.from({ length: 5 }, () => small.watch('/silent', {}, () => undefined, stop.signal));
    try {
      await new Promise((r) => setTimeout(r, 100)); // the watches are connected
      const answer = await Promise.race([
        small.request({ path: '/ok', discardBody: true }).then(() => 'answered'),
        new Promise((r) => setTimeout(() => r('still waiting for a socket'), 2000)),
      ]);
      expect(answer).toBe('answered');
    } finally {
      stop.abort();
      await Promise.allSettled(watches);
    }
  });
});
