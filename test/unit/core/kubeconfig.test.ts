import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../src/cli/app.ts';
import { createKube } from '../../../src/kube/client.ts';
import { isNoConfigFallback, loadKubeConfig } from '../../../src/kube/kubeconfig.ts';

const token = 'SECRET-TOKEN-must-not-be-printed';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-kubeconfig-'));
const home = path.join(dir, 'home'); // exists, but holds no .kube/config
fs.mkdirSync(home);
const inCluster = fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');

function kubeconfig(name: string, opts: { server?: string; currentContext?: string | null } = {}): string {
  const file = path.join(dir, name);
  const current = opts.currentContext === null ? '' : `current-context: ${opts.currentContext ?? 'x'}\n`;
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\n${current}clusters:\n- name: c\n  cluster: {server: "${opts.server ?? 'https://127.0.0.1:6443'}"}\n` +
      `users:\n- name: u\n  user: {token: ${token}}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n`,
  );
  return file;
}

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

afterEach(() => vi.unstubAllEnvs());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('no kubeconfig at all', () => {
  const noConfig = `error: no kubeconfig found: pass --kubeconfig FILE or set KUBECONFIG (looked in $KUBECONFIG and ${path.join(home, '.kube', 'config')})\n`;
  function stubNoConfig(kubeconfigEnv: string | undefined) {
    vi.stubEnv('KUBECONFIG', kubeconfigEnv);
    vi.stubEnv('HOME', home);
  }
  it("exits 2 with one line naming the fix, not client-node's http://localhost:8080 stand-in", async (ctx) => {
    ctx.skip(inCluster, 'runs in a pod: client-node falls back to the in-cluster config there');
    stubNoConfig(undefined);
    expect(await run(['status'])).toEqual({ code: 2, out: '', err: noConfig });
  });
  it('treats an empty KUBECONFIG as unset, and says the same before judging --context', async (ctx) => {
    ctx.skip(inCluster, 'runs in a pod: client-node falls back to the in-cluster config there');
    stubNoConfig('');
    expect(await run(['status', '--context', 'prod'])).toEqual({ code: 2, out: '', err: noConfig });
  });
  it('recognises the stand-in and nothing else', () => {
    vi.stubEnv('KUBECONFIG', undefined);
    expect(
      isNoConfigFallback(loadKubeConfig({ kubeconfig: kubeconfig('real.yaml', { server: 'http://localhost:8080' }) })),
    ).toBe(false);
  });
});

describe('a kubeconfig that cannot be used', () => {
  it.each([
    [
      'does not exist',
      () => path.join(dir, 'missing.yaml'),
      (f: string) =>
        `error: cannot load kubeconfig ${f}: no such file (ENOENT)\nPass a readable kubeconfig with --kubeconfig FILE.\n`,
    ],
    [
      'is a directory',
      () => dir,
      (f: string) =>
        `error: cannot load kubeconfig ${f}: is a directory (EISDIR)\nPass a readable kubeconfig with --kubeconfig FILE.\n`,
    ],
    [
      'is not valid YAML',
      () => {
        const f = path.join(dir, 'bad.yaml');
        fs.writeFileSync(f, `users:\n- name: u\n  user: {token: ${token}\ncontexts: [\n`);
        return f;
      },
      (f: string) =>
        `error: cannot load kubeconfig ${f}: not valid YAML (line 4)\nPass a readable kubeconfig with --kubeconfig FILE.\n`,
    ],
    [
      'is empty',
      () => {
        const f = path.join(dir, 'empty.yaml');
        fs.writeFileSync(f, '');
        return f;
      },
      (f: string) =>
        `error: cannot load kubeconfig ${f}: the file is empty\nPass a readable kubeconfig with --kubeconfig FILE.\n`,
    ],
    [
      'has a cluster without a server',
      () => {
        const f = path.join(dir, 'noserver.yaml');
        fs.writeFileSync(f, `clusters:\n- name: c\n  cluster: {}\nusers:\n- name: u\n  user: {token: ${token}}\n`);
        return f;
      },
      (f: string) =>
        `error: cannot load kubeconfig ${f}: clusters[0].cluster.server is missing\nPass a readable kubeconfig with --kubeconfig FILE.\n`,
    ],
    [
      'has no current-context',
      () => kubeconfig('noctx.yaml', { currentContext: null }),
      () =>
        'error: the kubeconfig has no current context with a cluster\nPass --context NAME or set current-context.\n',
    ],
    [
      'has a server that is not a URL',
      () => kubeconfig('noscheme.yaml', { server: 'localhost:6443' }),
      () =>
        'error: the server of cluster "c" in the kubeconfig is not an https:// or http:// URL\nFix it with kubectl config set-cluster NAME --server=https://HOST:PORT.\n',
    ],
  ])('exits 2 without a stack trace or its contents when it %s', async (_what, make, expected) => {
    const file = make();
    const r = await run(['status', '--kubeconfig', file]);
    expect(r).toEqual({ code: 2, out: '', err: expected(file) });
    expect(r.err).not.toContain(token);
  });
  it('names $KUBECONFIG when that is the file that failed', async () => {
    const file = path.join(dir, 'gone.yaml');
    vi.stubEnv('KUBECONFIG', file);
    expect(await run(['status'])).toMatchObject({
      code: 2,
      err: `error: cannot load kubeconfig ${file}: no such file (ENOENT)\nPass a readable kubeconfig with --kubeconfig FILE.\n`,
    });
  });
});

describe('a plain http:// server (kubectl allows one)', () => {
  const seen: { url?: string; authorization?: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ gitVersion: 'v1.33.0' }));
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("is reached with the kubeconfig's credentials", async () => {
    const { port } = server.address() as AddressInfo;
    const kc = loadKubeConfig({ kubeconfig: kubeconfig('http.yaml', { server: `http://127.0.0.1:${port}` }) });
    const kube = await createKube(kc, { maxSockets: 1 });
    expect(await kube.request({ path: '/version' })).toEqual({ gitVersion: 'v1.33.0' });
    expect(seen).toEqual([{ url: '/version', authorization: `Bearer ${token}` }]);
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(false); // the caller's kubeconfig is left as it was
  });
});
