/**
 * Builds dist/kubectl-nsm_upgrade: one executable file that needs no Node on the user's machine.
 *
 *   node_modules/.bin/node build/sea.ts [--out dist/kubectl-nsm_upgrade]
 *
 * 1. build/bundle.ts: build/sea-entry.ts (the CLI) and every dependency in one CommonJS file,
 *    the package version inlined.
 * 2. `node --experimental-sea-config` (Node 24) turns the bundle into a preparation blob.
 * 3. postject injects the blob into a copy of this Node binary.
 * Needs the devDependencies esbuild and postject.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { bundle, packageVersion, repoRoot } from './bundle.ts';

export { packageVersion, repoRoot } from './bundle.ts';
/** The fuse Node's single executable support looks for (docs: single-executable-applications). */
export const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface SeaPaths {
  workDir: string;
  bundle: string;
  blob: string;
  config: string;
  out: string;
}

export function seaPaths(out = path.join(repoRoot, 'dist/kubectl-nsm_upgrade')): SeaPaths {
  const workDir = path.join(path.dirname(out), 'sea');
  return {
    workDir,
    bundle: path.join(workDir, 'main.cjs'),
    blob: path.join(workDir, 'sea-prep.blob'),
    config: path.join(workDir, 'sea-config.json'),
    out,
  };
}

/** The SEA configuration: a CommonJS main, no experimental-feature warning on every run. */
export function seaConfig(p: SeaPaths): object {
  return {
    main: p.bundle,
    output: p.blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    useSnapshot: false,
  };
}

/** Steps 2 and 3: blob, then a copy of this Node binary with the blob injected. */
export async function buildExecutable(p: SeaPaths, nodeBin = process.execPath): Promise<void> {
  fs.writeFileSync(p.config, JSON.stringify(seaConfig(p), null, 2));
  await execa(nodeBin, ['--experimental-sea-config', p.config], { stdio: 'inherit' });
  fs.rmSync(p.out, { force: true });
  fs.copyFileSync(nodeBin, p.out);
  fs.chmodSync(p.out, 0o755);
  const postject = path.join(repoRoot, 'node_modules/postject/dist/cli.js');
  if (!fs.existsSync(postject))
    throw new Error(
      'postject is not installed: run `npm install` (it is a devDependency) or `npm i --no-save postject`',
    );
  await execa(nodeBin, [postject, p.out, 'NODE_SEA_BLOB', p.blob, '--sentinel-fuse', seaFuse], { stdio: 'inherit' });
}

export async function buildSea(out?: string): Promise<SeaPaths> {
  const p = seaPaths(out);
  fs.mkdirSync(p.workDir, { recursive: true });
  await bundle('cjs', p.bundle);
  await buildExecutable(p);
  return p;
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  try {
    const p = await buildSea(values.out ? path.resolve(values.out) : undefined);
    process.stdout.write(
      `built ${path.relative(process.cwd(), p.out)} (${(fs.statSync(p.out).size / 1e6).toFixed(0)} MB), version ${packageVersion()}\n`,
    );
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
