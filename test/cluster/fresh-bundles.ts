/**
 * The bundles the tests run, rebuilt when older than their sources (a second or two each with esbuild):
 *
 * - The nginx-meshctl stand-ins (test/fixtures/meshctl) in one JavaScript file. From its TypeScript a
 *   stand-in loads @kubernetes/client-node's whole module tree and strips types at every start: about
 *   1.1 CPU-seconds a run, and a tool run starts the stand-ins 4 to 8 times (version and --help checks,
 *   then the command). Bundled, it starts in about 0.2. The wrappers (test/fixtures/meshctl/<version>/
 *   nginx-meshctl) run it only while it is newer than every source it was made from, else the TypeScript.
 * - The tool's own dist/cli.mjs (build/bundle.ts), which bin/kubectl-nsm_upgrade runs only while it is
 *   newer than src/: after an edit the tests would otherwise run the tool from its TypeScript (about three
 *   times the CPU at each start) until the next `npm run build`. The tests then run what users install.
 *
 *   node test/cluster/fresh-bundles.ts      (the integration setup runs it)
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './tools.ts';

export const standinDir = path.join(repoRoot, 'test/fixtures/meshctl');
/** Where the stand-ins' wrappers look for their bundle (node_modules/ is not in git). */
export const standinBundle = path.join(repoRoot, 'node_modules/.cache/nsm-meshctl-standin/meshctl.mjs');
const toolBundle = path.join(repoRoot, 'dist/cli.mjs');

/** Whether `file` exists and no file under `sources` (those `pick` accepts) is newer. */
export function fresh(file: string, sources: string[], pick: (f: string) => boolean): boolean {
  if (!fs.existsSync(file)) return false;
  const built = fs.statSync(file).mtimeMs;
  const newer = (p: string): boolean => {
    if (!fs.existsSync(p)) return false;
    const st = fs.statSync(p);
    if (st.isDirectory()) return fs.readdirSync(p).some((e) => newer(path.join(p, e)));
    return pick(p) && st.mtimeMs > built;
  };
  return !sources.some(newer);
}

interface Esbuild {
  build(opts: Record<string, unknown>): Promise<unknown>;
}

async function buildStandin(): Promise<void> {
  const name = 'esbuild';
  const esbuild = (await import(name)) as Esbuild;
  fs.mkdirSync(path.dirname(standinBundle), { recursive: true });
  const tmp = `${standinBundle}.${process.pid}.tmp`;
  await esbuild.build({
    entryPoints: [path.join(standinDir, 'meshctl.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile: tmp,
    logLevel: 'warning',
    // The stand-in finds the fixture charts beside its sources.
    define: { 'import.meta.dirname': JSON.stringify(standinDir) },
    // CommonJS dependencies (@kubernetes/client-node's) call require.
    banner: {
      js: 'import { createRequire as __standinRequire } from "node:module";\nconst require = __standinRequire(import.meta.url);',
    },
  });
  fs.renameSync(tmp, standinBundle);
}

/** Rebuilds what is stale; says what it built. */
export async function freshBundles(say: (m: string) => void): Promise<void> {
  const ts = (f: string) => f.endsWith('.ts');
  if (
    !fresh(
      standinBundle,
      [standinDir, path.join(repoRoot, 'src'), path.join(repoRoot, 'package-lock.json')],
      (f) => ts(f) || f.endsWith('package-lock.json'),
    )
  ) {
    await buildStandin();
    say(`bundled the nginx-meshctl stand-ins into ${path.relative(repoRoot, standinBundle)}`);
  }
  if (await freshToolBundle()) say('rebuilt dist/cli.mjs: src/ had changed since the last build');
}

/**
 * Rebuilds dist/cli.mjs when src/ or package.json is newer; says whether it did. The one place the tests
 * write dist/: a rebuild removes the old chunks first, so it must not happen while a test runs the tool
 * (test/run.ts calls it before any shard starts; the npm package test calls it too, and then finds it fresh).
 */
export async function freshToolBundle(): Promise<boolean> {
  if (fresh(toolBundle, [path.join(repoRoot, 'src'), path.join(repoRoot, 'package.json')], () => true)) return false;
  await execa(path.join(repoRoot, 'node_modules/node/bin/node'), [path.join(repoRoot, 'build/bundle.ts')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  return true;
}

if (import.meta.main) await freshBundles((m) => process.stderr.write(`bundles: ${m}\n`));
