/**
 * One JavaScript file with the CLI and all its dependencies, made by esbuild, in two shapes:
 * - `cjs`: the main script of the single executable (build/sea.ts; Node 24 needs CommonJS there);
 * - `esm`: dist/cli.mjs for the npm package. Node does not strip TypeScript types under
 *   node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so an installed package cannot
 *   run src/*.ts: bin/kubectl-nsm_upgrade runs this bundle when it is there. It is split
 *   (esbuild `splitting`): what a command imports with `import()` when it runs (the kube client,
 *   listr2, ajv, the CRD schemas) is in chunks beside it, dist/cli-*-<hash>.mjs, which --help and
 *   --version never read (issue 18). The single executable's CommonJS shape cannot be split: there
 *   the same imports stay in the one file, evaluated only when called.
 *
 *   node_modules/.bin/node build/bundle.ts        writes dist/cli.mjs and its chunks dist/cli-*.mjs
 *
 * The package version is inlined: src/version.ts reads package.json at run time, and a single
 * executable has no package.json next to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EsbuildPlugin } from './esbuild-api.ts';
import { builtinsByRequire } from './builtins-by-require.ts';
import { lazyStringWidth } from './lazy-string-width.ts';
import { lazyClientNode } from './lazy-client-node.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const npmBundle = path.join(repoRoot, 'dist/cli.mjs');
/** The chunks of an ESM bundle `dir/NAME.mjs` are `dir/NAME-<module or "chunk">-<hash>.mjs`. */
export const chunkPattern = (entryName: string) => new RegExp(`^${entryName}-.+-[A-Z0-9]{8}\\.mjs$`);

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Esbuild {
  build(opts: Record<string, unknown> & { plugins: EsbuildPlugin[] }): Promise<{ warnings: { text: string }[] }>;
}

async function loadEsbuild(): Promise<Esbuild> {
  // A module name in a variable: typechecking does not need esbuild installed.
  const name = 'esbuild';
  try {
    return (await import(name)) as Esbuild;
  } catch {
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
    banner:
      '#!/usr/bin/env node\nimport { createRequire as __bundleCreateRequire } from "node:module";\nconst require = __bundleCreateRequire(import.meta.url);',
  },
} as const;

/**
 * esbuild's options for an ESM entry `outfile` (dir/NAME.mjs) with its chunks beside it. The chunks
 * of an earlier build are removed first: their names change with their content, and a stale one
 * would be shipped by npm pack (package.json `files`: dist/*.mjs).
 */
function splitInto(outfile: string): Record<string, unknown> {
  const dir = path.dirname(outfile);
  const name = path.basename(outfile, '.mjs');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (chunkPattern(name).test(f)) fs.rmSync(path.join(dir, f));
  return {
    outdir: dir,
    splitting: true,
    entryNames: '[name]',
    chunkNames: `${name}-[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
  };
}

export async function bundle(format: 'cjs' | 'esm', outfile: string, version = packageVersion()): Promise<void> {
  const esbuild = await loadEsbuild();
  const shape = shapes[format];
  const inlineVersion: EsbuildPlugin = {
    name: 'inline-version',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export const toolVersion: string = ${JSON.stringify(version)};\n`,
        loader: 'ts',
      }));
    },
  };
  const common = {
    bundle: true,
    platform: 'node',
    format,
    target: 'node22',
    plugins: [
      inlineVersion,
      lazyStringWidth(repoRoot),
      lazyClientNode(repoRoot),
      ...(format === 'esm' ? [builtinsByRequire] : []),
    ],
    logLevel: 'silent',
    legalComments: 'none',
    define: shape.define,
    banner: { js: shape.banner },
  };
  const entry = path.join(repoRoot, shape.entry);
  const result =
    format === 'cjs'
      ? await esbuild.build({ ...common, entryPoints: [entry], outfile })
      : await esbuild.build({
          ...common,
          ...splitInto(outfile),
          entryPoints: { [path.basename(outfile, '.mjs')]: entry },
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
