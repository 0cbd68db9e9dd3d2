/**
 * Issue 18 (start-up time): --help, --version, completion and bad flags load yargs and the command
 * definitions only. A command's implementation, and with it the kube client (@kubernetes/client-node,
 * undici), listr2, ajv, js-yaml and the CRD schemas, is imported when the command runs.
 *
 * Each case runs src/main.ts in a child Node with a module hook (module.registerHooks) that records
 * every module it loads: a static import of the kube client back into a command's definition (or
 * into app.ts, define.ts, options.ts, ...) puts it in that list and fails here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/cluster.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-startup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Records each module's URL as Node loads it (ES modules, and CommonJS required by them).
const hook = path.join(tmp, 'trace-loads.mjs');
fs.writeFileSync(
  hook,
  `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, next) { appendFileSync(process.env.NSM_TRACE_LOADS, url + '\\n'); return next(url, context); } });
`,
);

/** What a command line loads: its exit code, output and the modules loaded, as paths relative to the repository (node_modules may be a link elsewhere). */
async function loads(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; modules: string[] }> {
  const trace = path.join(tmp, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const r = await execa(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', '--import', hook, path.join(repoRoot, 'src/main.ts'), ...args],
    {
      reject: false,
      env: { NSM_TRACE_LOADS: trace, NODE_DISABLE_COMPILE_CACHE: '1', KUBECONFIG: path.join(tmp, 'no-kubeconfig') },
      cwd: tmp,
      timeout: 60_000,
    },
  );
  const modules = fs
    .readFileSync(trace, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => path.relative(repoRoot, new URL(u).pathname));
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), modules };
}

/** What the start-up must not load: the heavy dependencies, and every command's implementation. */
const heavy = [
  /node_modules\/@kubernetes\/client-node\//,
  /node_modules\/undici\//,
  /node_modules\/listr2\//,
  /node_modules\/ajv\//,
  /node_modules\/js-yaml\//,
  /src\/mesh\/crd-schemas\//,
  /^src\/kube\/(client|kubeconfig)\.ts$/,
];
const notLoaded = (modules: string[]) => modules.filter((m) => heavy.some((re) => re.test(m)));

describe('start-up loads no command implementation', () => {
  it('--help: the help, without the kube client, listr2, ajv, js-yaml or the CRD schemas', async () => {
    const r = await loads(['--help']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kubectl nsm-upgrade status\b/);
    expect(r.modules).toContain('src/cli/app.ts');
    expect(notLoaded(r.modules)).toEqual([]);
    expect(
      r.modules.filter((m) => /^src\/cli\/(upgrade|plan|backup|restore|status|restart|fleet|rollback)\.ts$/.test(m)),
    ).toEqual([]);
  }, 60_000);

  it.each([
    [['--version'], 0],
    [['status', '--help'], 0],
    [['completion', '__complete', '--', 'restore', '--on-conflict', 'o'], 0],
    [['--no-such-flag'], 2],
    [['status', '-o', 'yaml'], 2],
  ])(
    '%j exits %i without loading them',
    async (args, code) => {
      const r = await loads(args);
      expect(r.exitCode, r.stderr).toBe(code);
      expect(notLoaded(r.modules)).toEqual([]);
    },
    60_000,
  );

  it('the trace sees the kube client when a command runs (the check above can fail)', async () => {
    // restart loads its implementation, then refuses the duration: exit 2 without touching a cluster.
    const r = await loads(['restart', '--timeout', 'soon']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--timeout "soon" is not a duration/);
    expect(r.modules.some((m) => /node_modules\/@kubernetes\/client-node\//.test(m))).toBe(true);
  }, 60_000);
});
