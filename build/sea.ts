/**
 * Builds dist/kubectl-nsm_upgrade: one executable file that needs no Node on the user's machine.
 *
 *   node_modules/.bin/node build/sea.ts [--out dist/kubectl-nsm_upgrade]
 *
 * 1. esbuild bundles build/sea-entry.ts (the CLI) and every dependency into one CommonJS file,
 *    with the package version inlined (src/version.ts reads package.json at run time, which a
 *    single executable does not have).
 * 2. `node --experimental-sea-config` (Node 24) turns the bundle into a preparation blob.
 * 3. postject injects the blob into a copy of this Node binary.
 * Needs the devDependencies esbuild and postject.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';

export const repoRoot = path.resolve(import.meta.dirname, '..');
/** The fuse Node's single executable support looks for (docs: single-executable-applications). */
export const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface SeaPaths { workDir: string; bundle: string; blob: string; config: string; out: string }

export function seaPaths(out = path.join(repoRoot, 'dist/kubectl-nsm_upgrade')): SeaPaths {
  const workDir = path.join(path.dirname(out), 'sea');
  return { workDir, bundle: path.join(workDir, 'main.cjs'), blob: path.join(workDir, 'sea-prep.blob'), config: path.join(workDir, 'sea-config.json'), out };
}

/** The SEA configuration: a CommonJS main, no experimental-feature warning on every run. */
export function seaConfig(p: SeaPaths): object {
  return { main: p.bundle, output: p.blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false };
}

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The part of esbuild's API used here (esbuild 0.28). */
interface EsbuildPlugin {
  name: string;
  setup(build: { onLoad(opts: { filter: RegExp }, cb: () => { contents: string; loader: 'ts' }): void }): void;
}
interface Esbuild {
  build(opts: Record<string, unknown> & { plugins: EsbuildPlugin[] }): Promise<{ warnings: { text: string }[] }>;
}

/** Step 1: the bundle. Throws with a fix when esbuild is not installed. */
export async function bundle(p: SeaPaths, version = packageVersion()): Promise<void> {
  let esbuild: Esbuild;
  // A module name in a variable: typechecking does not need esbuild installed.
  const esbuildModule = 'esbuild';
  try { esbuild = (await import(esbuildModule)) as Esbuild; } catch {
    throw new Error('esbuild is not installed: run `npm install` (it is a devDependency) or `npm i --no-save esbuild`');
  }
  const inlineVersion: EsbuildPlugin = {
    name: 'inline-version',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export const toolVersion: string = ${JSON.stringify(version)};\n`, loader: 'ts',
      }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [path.join(repoRoot, 'build/sea-entry.ts')],
    outfile: p.bundle, bundle: true, platform: 'node', format: 'cjs', target: 'node24',
    plugins: [inlineVersion], logLevel: 'silent', legalComments: 'none',
    // ESM dependencies (yargs, yargs-parser) call createRequire(import.meta.url); CommonJS has no
    // import.meta, so give them this file's URL (in a single executable: the executable's).
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: 'const importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  for (const w of result.warnings) process.stderr.write(`esbuild: ${w.text}\n`);
}

/** Steps 2 and 3: blob, then a copy of this Node binary with the blob injected. */
export async function buildExecutable(p: SeaPaths, nodeBin = process.execPath): Promise<void> {
  fs.writeFileSync(p.config, JSON.stringify(seaConfig(p), null, 2));
  await execa(nodeBin, ['--experimental-sea-config', p.config], { stdio: 'inherit' });
  fs.rmSync(p.out, { force: true });
  fs.copyFileSync(nodeBin, p.out);
  fs.chmodSync(p.out, 0o755);
  const postject = path.join(repoRoot, 'node_modules/postject/dist/cli.js');
  if (!fs.existsSync(postject)) throw new Error('postject is not installed: run `npm install` (it is a devDependency) or `npm i --no-save postject`');
  await execa(nodeBin, [postject, p.out, 'NODE_SEA_BLOB', p.blob, '--sentinel-fuse', seaFuse], { stdio: 'inherit' });
}

export async function buildSea(out?: string): Promise<SeaPaths> {
  const p = seaPaths(out);
  fs.mkdirSync(p.workDir, { recursive: true });
  await bundle(p);
  await buildExecutable(p);
  return p;
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  try {
    const p = await buildSea(values.out ? path.resolve(values.out) : undefined);
    process.stdout.write(`built ${path.relative(process.cwd(), p.out)} (${(fs.statSync(p.out).size / 1e6).toFixed(0)} MB), version ${packageVersion()}\n`);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
