/**
 * One JavaScript file with the CLI and all its dependencies, made by esbuild, in two shapes:
 * - `cjs`: the main script of the single executable (build/sea.ts; Node 24 needs CommonJS there);
 * - `esm`: dist/cli.mjs for the npm package. Node does not strip TypeScript types under
 *   node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so an installed package cannot
 *   run src/*.ts: bin/kubectl-nsm_upgrade runs this bundle when it is there.
 *
 *   node_modules/.bin/node build/bundle.ts        writes dist/cli.mjs
 *
 * The package version is inlined: src/version.ts reads package.json at run time, and a single
 * executable has no package.json next to it.
 */
import fs from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const npmBundle = path.join(repoRoot, 'dist/cli.mjs');

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

async function loadEsbuild(): Promise<Esbuild> {
  // A module name in a variable: typechecking does not need esbuild installed.
  const name = 'esbuild';
  try { return (await import(name)) as Esbuild; } catch {
    throw new Error('esbuild is not installed: run `npm install` (it is a devDependency) or `npm i --no-save esbuild`');
  }
}

/** Per format: entry point and the shim that gives bundled dependencies what the format lacks. */
const shapes = {
  // CommonJS has no import.meta; ESM dependencies (yargs, yargs-parser) call
  // createRequire(import.meta.url), so they get this file's URL (in a single executable: the executable's).
  cjs: {
    entry: 'build/sea-entry.ts',
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: 'const importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
  },
  // ESM has no require; CommonJS dependencies (@kubernetes/client-node's) call require('node:...').
  esm: {
    entry: 'src/main.ts',
    define: {},
    banner: '#!/usr/bin/env node\nimport { createRequire as __bundleCreateRequire } from "node:module";\nconst require = __bundleCreateRequire(import.meta.url);',
  },
} as const;

export async function bundle(format: 'cjs' | 'esm', outfile: string, version = packageVersion()): Promise<void> {
  const esbuild = await loadEsbuild();
  const shape = shapes[format];
  const inlineVersion: EsbuildPlugin = {
    name: 'inline-version',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export const toolVersion: string = ${JSON.stringify(version)};\n`, loader: 'ts',
      }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [path.join(repoRoot, shape.entry)],
    outfile, bundle: true, platform: 'node', format, target: 'node22',
    plugins: [inlineVersion], logLevel: 'silent', legalComments: 'none',
    define: shape.define, banner: { js: shape.banner },
  });
  for (const w of result.warnings) process.stderr.write(`esbuild: ${w.text}\n`);
  if (format === 'esm') fs.chmodSync(outfile, 0o755);
}

if (import.meta.filename === process.argv[1]) {
  try {
    fs.mkdirSync(path.dirname(npmBundle), { recursive: true });
    await bundle('esm', npmBundle);
    process.stdout.write(`built ${path.relative(process.cwd(), npmBundle)}, version ${packageVersion()}\n`);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
