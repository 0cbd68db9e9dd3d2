/**
 * The bundle's client-node (build/lazy-client-node.ts): KubeConfig's module gets the generated API,
 * undici, socks and hpagent lazily. A bundle of just KubeConfig, built as build/bundle.ts builds the
 * CLI, loads a kubeconfig and asks for its TLS options without evaluating undici or holding the
 * 800 generated models; a kubeconfig with a proxy-url still gets its proxy agent (the real class,
 * loaded at that first use).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../build/bundle.ts';
import { lazyClientNode } from '../../../build/lazy-client-node.ts';

const dir = fs.mkdtempSync(path.join(repoRoot, '.lazy-client-node-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Test instrumentation: undici's index module, when evaluated, says so on globalThis. */
const markUndici = {
  name: 'mark-undici',
  setup(build: {
    onLoad(
      o: { filter: RegExp },
      cb: (a: { path: string }) => { contents: string; loader: 'js'; resolveDir: string },
    ): void;
  }) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]undici[\\/]index\.js$/ }, (a) => ({
      contents: `${fs.readFileSync(a.path, 'utf8')}\nglobalThis.undiciEvaluated = true;\n`,
      loader: 'js',
      resolveDir: path.dirname(a.path),
    }));
  },
};

const entry = `import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
const kc = new KubeConfig();
kc.loadFromString(process.env.KC);
const o = {};
await kc.applyToHTTPSOptions(o);
console.log(JSON.stringify({ undiciLoaded: globalThis.undiciEvaluated === true, agent: o.agent?.constructor?.name ?? null, hasCa: Boolean(o.ca) }));
`;

const kubeconfig = (proxy: string) => `apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64')}${proxy ? `, proxy-url: "${proxy}"` : ''}}
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user: {token: t}
`;

async function build(withPlugin: boolean): Promise<string> {
  const name = 'esbuild';
  const esbuild = (await import(name)) as { build(o: Record<string, unknown>): Promise<unknown> };
  const src = path.join(dir, 'entry.mjs');
  fs.writeFileSync(src, entry);
  const out = path.join(dir, withPlugin ? 'lazy.mjs' : 'eager.mjs');
  await esbuild.build({
    entryPoints: [src],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'silent',
    banner: { js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);' },
    plugins: withPlugin ? [lazyClientNode(repoRoot), markUndici] : [markUndici],
  });
  return out;
}

const run = async (bundle: string, proxy = '') =>
  JSON.parse(
    (await execa(process.execPath, [bundle], { env: { KC: kubeconfig(proxy) }, extendEnv: false })).stdout,
  ) as { undiciLoaded: boolean; agent: string | null; hasCa: boolean };

describe("the bundle's lazy client-node", () => {
  it('loads a kubeconfig and its TLS options without evaluating undici, and bundles no generated model', async () => {
    const [lazy, eager] = [await build(true), await build(false)];
    expect(await run(eager)).toMatchObject({ undiciLoaded: true, hasCa: true }); // the check can fail: client-node's own import evaluates it
    expect(await run(lazy)).toMatchObject({
      undiciLoaded: false,
      agent: expect.stringMatching(/^Agent\d*$/),
      hasCa: true,
    });
    const text = fs.readFileSync(lazy, 'utf8');
    expect(text).not.toMatch(/class V1Pod\b/);
    expect(fs.statSync(lazy).size).toBeLessThan(fs.statSync(eager).size);
  }, 120_000);

  it("a kubeconfig with a proxy-url still gets client-node's proxy agent, its real class loaded at first use", async () => {
    const lazy = await build(true);
    // (esbuild may suffix a class name it renames to avoid a clash: HttpsProxyAgent2)
    expect((await run(lazy, 'http://127.0.0.1:3128')).agent).toMatch(/^HttpsProxyAgent\d*$/);
    expect((await run(lazy, 'socks5://127.0.0.1:1080')).agent).toMatch(/^SocksProxyAgent\d*$/);
  }, 120_000);
});
