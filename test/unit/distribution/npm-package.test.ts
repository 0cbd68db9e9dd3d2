/**
 * The npm package: what `npm pack` ships, and the command an `npm install -g` puts on PATH.
 * Node refuses to strip TypeScript types under node_modules, so the installed command must run
 * the bundle dist/cli.mjs (build/bundle.ts), not src/main.ts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { npmBundle, packageVersion } from '../../../build/bundle.ts';
import { freshToolBundle } from '../../cluster/fresh-bundles.ts';
import { clusterEnv, repoRoot } from '../../support/cluster.ts';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  files?: string[];
};
const launcher = fs.readFileSync(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), 'utf8');
const haveEsbuild = (() => {
  try {
    require.resolve('esbuild/package.json');
    return true;
  } catch {
    return false;
  }
})();
const installSkip = !launcher.includes('dist/cli.mjs')
  ? 'bin/kubectl-nsm_upgrade does not run dist/cli.mjs yet (an installed package cannot run src/*.ts)'
  : !haveEsbuild
    ? 'esbuild is not installed (devDependency)'
    : '';
if (installSkip) console.warn(`installed-package test skipped: ${installSkip}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-npm-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
/** PATH for the installed command: the project's Node 24 and the system tools, nothing of the checkout. */
const nodeDir = path.dirname(process.execPath);

async function packFiles(): Promise<Map<string, number>> {
  const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, reject: false });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  const [pack] = JSON.parse(String(r.stdout)) as { files: { path: string; mode: number }[] }[];
  return new Map(pack!.files.map((f) => [f.path, f.mode]));
}

describe('npm pack', () => {
  it('ships bin/kubectl-nsm_upgrade (executable), the completion helper, src/ and manifests/, and no cluster credentials', async () => {
    const files = await packFiles();
    expect(pkg.bin['kubectl-nsm_upgrade']).toBe('bin/kubectl-nsm_upgrade');
    for (const bin of ['bin/kubectl-nsm_upgrade', 'bin/kubectl_complete-nsm_upgrade']) {
      expect(files.has(bin), bin).toBe(true);
      expect(files.get(bin)! & 0o111, `${bin} is executable`).not.toBe(0);
    }
    for (const f of [
      'src/main.ts',
      'src/cli/app.ts',
      'src/version.ts',
      'package.json',
      'manifests/rbac/clusterrole.yaml',
    ])
      expect(files.has(f), f).toBe(true);
    const leaked = [...files.keys()].filter(
      (f) =>
        f.startsWith('.cluster/') || f.startsWith('node_modules/') || /kubeconfig$/.test(f) || /\.(key|pem)$/.test(f),
    );
    expect(leaked).toEqual([]);
  }, 120_000);
});

describe.skipIf(installSkip !== '')(
  `npm install -g of the packed tarball${installSkip ? ` [skipped: ${installSkip}]` : ''}`,
  () => {
    const prefix = path.join(tmp, 'prefix');
    const env = { PATH: `${path.join(prefix, 'bin')}:${nodeDir}:/usr/bin:/bin`, HOME: tmp };

    it('declares no runtime dependencies: dist/cli.mjs inlines them, so an install fetches nothing', () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(manifest.dependencies ?? {}).toEqual({});
      expect(manifest.optionalDependencies ?? {}).toEqual({});
      expect(manifest.peerDependencies ?? {}).toEqual({});
    });

    it('installs kubectl-nsm_upgrade offline with an empty npm cache, and it runs the bundle and prints the version', async () => {
      // Rebuilt only when src/ changed since: rewriting dist/ in place while another shard runs the tool from it
      // made that run fail on a chunk the rebuild had just removed (a fresh-clone npm test, 2026-12-07).
      await freshToolBundle();
      const shipped = await packFiles();
      expect(shipped.has('dist/cli.mjs'), 'package.json "files" ships dist/cli.mjs').toBe(true);
      // The bundle is split: each command's code is in a chunk beside it, loaded when the command runs.
      const chunks = fs.readdirSync(path.dirname(npmBundle)).filter((f) => f.endsWith('.mjs') && f !== 'cli.mjs');
      expect(chunks.length).toBeGreaterThan(0);
      expect(
        chunks.filter((f) => !shipped.has(`dist/${f}`)),
        'package.json "files" ships every chunk',
      ).toEqual([]);
      const packed = await execa('npm', ['pack', '--pack-destination', tmp, '--ignore-scripts', '--json'], {
        cwd: repoRoot,
      });
      const tarball = path.join(tmp, (JSON.parse(String(packed.stdout)) as { filename: string }[])[0]!.filename);
      // A fresh, empty npm cache and --offline: the install must need neither the registry nor what an
      // earlier `npm install` left in ~/.npm (a fresh machine has neither warm).
      const emptyCache = fs.mkdtempSync(path.join(tmp, 'npm-cache-'));
      const inst = await execa(
        'npm',
        ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball],
        {
          env: { ...process.env, PATH: `${nodeDir}:${process.env.PATH}`, npm_config_cache: emptyCache },
          reject: false,
        },
      );
      expect(inst.exitCode, String(inst.stderr)).toBe(0);
      const r = await execa(path.join(prefix, 'bin/kubectl-nsm_upgrade'), ['--version'], {
        cwd: tmp,
        env,
        extendEnv: false,
        reject: false,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stdout).trim()).toBe(packageVersion());
      // A command's code is in its chunk: restart loads it (and the kube client), then refuses the duration.
      const cmd = await execa(path.join(prefix, 'bin/kubectl-nsm_upgrade'), ['restart', '--timeout', 'soon'], {
        cwd: tmp,
        env,
        extendEnv: false,
        reject: false,
      });
      expect(cmd.exitCode, String(cmd.stderr)).toBe(2);
      expect(String(cmd.stderr)).toMatch(/--timeout "soon" is not a duration/);
    }, 300_000);

    it("installs kubectl_complete-nsm_upgrade, which answers kubectl's completion through the installed command", async () => {
      expect(pkg.bin['kubectl_complete-nsm_upgrade'], 'package.json "bin" lists the completion helper').toBe(
        'bin/kubectl_complete-nsm_upgrade',
      );
      const r = await execa(path.join(prefix, 'bin/kubectl_complete-nsm_upgrade'), ['restore', '--on-conflict', 'o'], {
        cwd: tmp,
        env,
        extendEnv: false,
        reject: false,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stdout)).toBe('overwrite\n:4');
    }, 60_000);

    const kubectlBin = clusterEnv().KUBECTL!;
    it('is found by kubectl as the plugin `nsm-upgrade`', async (ctx) => {
      ctx.skip(
        !path.isAbsolute(kubectlBin) || !fs.existsSync(kubectlBin),
        `no kubectl at ${kubectlBin} (npm run cluster:up builds it)`,
      );
      const r = await execa(kubectlBin, ['nsm-upgrade', '--help'], { cwd: tmp, env, extendEnv: false, reject: false });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stdout)).toMatch(/kubectl nsm-upgrade \[command\]/);
    }, 60_000);
  },
);
