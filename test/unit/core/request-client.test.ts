/** Credentials per request: an exec plugin's token is asked for again (it may expire); a static one is asked for once. */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKube } from '../../../src/kube/client.ts';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-auth-'));
let server: http.Server;
const seen: string[] = [];

function kubeconfig(name: string, user: string): string {
  const file = path.join(dir, name);
  const port = (server.address() as AddressInfo).port;
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user:\n${user}`,
  );
  return file;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(req.url === '/not-json' ? '<html>created</html>' : '{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('request credentials', () => {
  it('asks an exec plugin again for each request, so an expired token is replaced', async () => {
    // The plugin hands out a new token each time, already expired: client-node must run it again.
    const counter = path.join(dir, 'n');
    const plugin = path.join(dir, 'plugin.sh');
    fs.writeFileSync(
      plugin,
      `#!/bin/sh\nn=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s","expirationTimestamp":"2000-01-01T00:00:00Z"}}' $n\n`,
      { mode: 0o700 },
    );
    const file = kubeconfig(
      'exec',
      `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never\n`,
    );
    const kube = await createKube(loadKubeConfig({ kubeconfig: file }));
    seen.length = 0;
    await kube.request({ path: '/a' });
    await kube.request({ path: '/b' });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^Bearer tok-\d+$/);
    expect(seen[1]).toMatch(/^Bearer tok-\d+$/);
    expect(seen[1]).not.toBe(seen[0]);
  });

  it('asks for a static token once, however many requests follow', async () => {
    const file = kubeconfig('static', '    token: static-token\n');
    const spy = vi.spyOn(KubeConfig.prototype, 'applyToHTTPSOptions');
    try {
      const kube = await createKube(loadKubeConfig({ kubeconfig: file }));
      const before = spy.mock.calls.length; // createKube's own TLS setup
      seen.length = 0;
      await Promise.all(Array.from({ length: 20 }, (_, i) => kube.request({ path: `/x${i}` })));
      expect(seen).toEqual(Array(20).fill('Bearer static-token'));
      expect(spy.mock.calls.length - before).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("does not parse a successful answer the caller discards (a restore's creates)", async () => {
    const kube = await createKube(loadKubeConfig({ kubeconfig: kubeconfig('discard', '    token: t\n') }));
    expect(await kube.request({ path: '/x' })).toEqual({});
    expect(await kube.request({ path: '/x', discardBody: true })).toBeUndefined();
    await expect(kube.request({ path: '/not-json' })).rejects.toThrow(SyntaxError);
    expect(await kube.request({ path: '/not-json', discardBody: true })).toBeUndefined();
  });
});
