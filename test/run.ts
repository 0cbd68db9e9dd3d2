/**
 * `npm test`: the type check and the whole suite, with the integration files split into shards that
 * run at once, each on a local cluster of its own (issue 24). The integration and conformance files wait
 * on their cluster most of the time (rollouts, nginx-meshctl's own waits), one file at a time per
 * cluster: on one cluster the machine sat about 70% idle through a CI run.
 *
 * - NSM_TEST_SHARDS (default 3, at most 4): shard 1 runs the unit tests and its integration files on the
 *   usual cluster (.cluster, with the fleet tests' second cluster unless NSM_TEST_CLUSTERS=1); shard k runs
 *   its files on .cluster-shard-k. Files that need the fleet's second cluster stay in shard 1; the rest
 *   are dealt slowest first, each to the shard with the least time so far, by the times in
 *   test/integration/file-times.json (NSM_RECORD_TIMES=1 rewrites it from a passing run; a file it lacks
 *   counts as the median).
 * - The type check (`tsc --noEmit`, as `npm run typecheck`) runs while the clusters start: its failure
 *   fails the run before any shard starts.
 * - Every cluster is started here before any shard (the first alone: a cold start builds and caches the
 *   binaries once; then the others at once), and stopped afterwards, all at once, when this run started it
 *   (KEEP_CLUSTER=1 keeps them).
 * - Each shard's lines are printed as they come, prefixed [k]; the run ends with the sum of the shards'
 *   tallies (also written to TALLY_FILE when set, which `.ci/run` reads). Exit 1 when any shard fails.
 * - NSM_TEST_SHARDS=1, TEST_KUBECONFIG or TEST_CLUSTER: one `vitest run`, as before (a given cluster is
 *   one cluster). Arguments after `--` go to vitest (every shard).
 *
 *   node test/run.ts [-- vitest args]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { execa } from 'execa';
import { repoRoot } from './cluster/tools.ts';
import { dealShards, type FileTimes } from './support/shards.ts';
import type { Tally } from './support/tally-reporter.ts';

const node = process.execPath;
const vitest = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
const timesFile = path.join(repoRoot, 'test/integration/file-times.json');
const mainDir = process.env.NSM_CLUSTER_DIR ?? path.join(repoRoot, '.cluster');
/** Shard k > 1 runs on a cluster of its own in .cluster-shard-k. */
const shardDir = (k: number) => (k === 1 ? mainDir : path.join(repoRoot, `.cluster-shard-${k}`));
const passThrough = process.argv.slice(2).filter((a) => a !== '--');

const shardCount =
  process.env.TEST_KUBECONFIG || process.env.TEST_CLUSTER ? 1 : Number(process.env.NSM_TEST_SHARDS ?? '3');
if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 4) {
  process.stderr.write(`error: NSM_TEST_SHARDS=${process.env.NSM_TEST_SHARDS}: expected a whole number from 1 to 4\n`);
  process.exit(2);
}
/** `tsc --noEmit` (what `npm run typecheck` runs): resolves to whether it passed; its findings go to stderr. */
async function typecheck(): Promise<boolean> {
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const r = await execa(node, [tsc, '-p', 'tsconfig.json', '--noEmit'], { cwd: repoRoot, reject: false, all: true });
  if (r.exitCode !== 0) process.stderr.write(`test: the type check failed:\n${String(r.all)}\n`);
  return r.exitCode === 0;
}

/**
 * Every Go program of the run (the clusters' etcd, API server and controllers when this run starts them, Helm
 * and nginx-meshctl under the tests) collects its garbage less often: GOGC=400 instead of Go's 100, unless
 * GOGC is set already. It changes when the collector runs, nothing a program does. upgrade-paths alone on a
 * quiet cluster: 127.0 CPU-s before, 107.3 after (API server 46.8 -> 39.5, Helm 16.1 -> 12.3); the suite is
 * bound by the two cores, so CPU saved is time saved.
 */
process.env.GOGC ??= '400';

// The local test bed's first cluster comes with the fleet's second cluster unless NSM_TEST_CLUSTERS=1: without
// it the trust tests that prove a run touches only its own cluster (context-switch, run-guards) and the fleet's skip.
const clusterCount = process.env.NSM_TEST_CLUSTERS || '2';

/**
 * Every temporary file of the tests (and of the tool, Helm and nginx-meshctl they run) goes under one directory
 * of this run (TMPDIR, which os.tmpdir() and Go read): removed when the run passes, kept and named when it
 * does not. Runs used to leave thousands of directories in /tmp (backups, journals, copied binaries).
 */
const runTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-test-run-'));
function leaveRunTmp(testsFailed: boolean): void {
  if (!testsFailed) fs.rmSync(runTmp, { recursive: true, force: true });
  else process.stderr.write(`test: the run's temporary files are kept in ${runTmp}\n`);
}

if (shardCount === 1) {
  if (!(await typecheck())) {
    leaveRunTmp(false);
    process.exit(1);
  }
  const given = process.env.TEST_KUBECONFIG || process.env.TEST_CLUSTER;
  const r = await execa(node, [vitest, 'run', ...passThrough], {
    stdio: 'inherit',
    reject: false,
    env: { TMPDIR: runTmp, ...(given ? {} : { NSM_TEST_CLUSTERS: clusterCount }) },
  });
  leaveRunTmp(r.exitCode !== 0);
  process.exit(r.exitCode ?? 1);
}

const say = (m: string) => process.stderr.write(`test: ${m}\n`);
const isUp = (dir: string) => fs.existsSync(path.join(dir, 'state.json'));

/** Every integration file (the conformance files are among them: vitest.config.ts picks their project). */
function integrationFiles(): string[] {
  const dir = path.join(repoRoot, 'test/integration');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/integration/${f}`)
    .sort();
}

/** Files that use the fleet's second cluster (through test/support/fleet-clusters.ts or test/cluster/more-clusters.ts): only shard 1 has it. */
function needsSecondCluster(file: string): boolean {
  return /\/(fleet-clusters|more-clusters)\.ts'/.test(fs.readFileSync(path.join(repoRoot, file), 'utf8'));
}

/**
 * The key of file-times.json that says what the unit tests add to shard 1's wall time, in seconds (they run
 * beside its integration files). Set by hand from CI runs, kept when the times are recorded: with 3 shards
 * shard 1 ran 30 to 60 s longer than the others for the same integration time, with 4 about 100 s; with
 * 90 s of credit, shard 1 still ended 51 to 57 s after the other two (CI12), so the credit is now 140 s.
 */
const unitKey = 'test/unit/';

function readTimes(): FileTimes {
  return fs.existsSync(timesFile) ? (JSON.parse(fs.readFileSync(timesFile, 'utf8')) as FileTimes) : {};
}

async function up(dir: string, extra: string[]): Promise<boolean> {
  const was = isUp(dir);
  await execa(node, [path.join(repoRoot, 'test/cluster/up.ts'), ...extra], {
    stdio: 'inherit',
    cwd: repoRoot,
    env: { NSM_CLUSTER_DIR: dir },
  });
  return !was;
}

async function down(dir: string): Promise<void> {
  await execa(node, [path.join(repoRoot, 'test/cluster/down.ts')], {
    stdio: 'inherit',
    cwd: repoRoot,
    env: { NSM_CLUSTER_DIR: dir },
    reject: false,
  });
}

const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
// Ctrl-C or SIGTERM: the shards are told (a terminal's Ctrl-C reaches them already), their end awaited,
// and the clusters this run started stopped (the `finally` below), instead of leaving them running.
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    say(`${sig}: stopping the shards, then the clusters this run started`);
    for (const c of running) c.kill(sig);
  });

/** One shard: vitest on its files, its lines prefixed; resolves to its exit code. */
async function shard(n: number, filters: string[], env: Record<string, string>): Promise<number> {
  const child = execa(node, [vitest, 'run', ...passThrough, ...filters], {
    cwd: repoRoot,
    env,
    reject: false,
    all: true,
    buffer: false,
  });
  running.add(child);
  const lines = readline.createInterface({ input: child.all });
  lines.on('line', (l) => process.stdout.write(`[${n}] ${l}\n`));
  const r = await child;
  running.delete(child);
  return r.exitCode ?? 1;
}

function readTally(file: string): (Tally & { files?: Record<string, number> }) | undefined {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

await execa(node, [path.join(repoRoot, 'test/cluster/fresh-bundles.ts')], { stdio: 'inherit', cwd: repoRoot });
const clusters = ['--clusters', clusterCount];
const started: string[] = [];
const stopStarted = async () => {
  if (process.env.KEEP_CLUSTER === '1') return;
  await Promise.all(started.map(down));
};
/** The type check failed: the run ends (exit 1) before any shard starts, once the clusters are stopped. */
class TypecheckFailed extends Error {}
let status = 1;
let noTestRan = false;
try {
  const typed = typecheck();
  // The first cluster alone (a cold start builds and caches the binaries), then the others at once.
  if (await up(shardDir(1), clusters)) started.push(shardDir(1));
  const others = Array.from({ length: shardCount - 1 }, (_, i) => shardDir(i + 2));
  const fresh = await Promise.all(others.map((dir) => up(dir, [])));
  started.push(...others.filter((_, i) => fresh[i]));
  if (!(await typed)) throw new TypecheckFailed();

  const files = integrationFiles();
  const times = readTimes();
  const shards = dealShards(files, times, {
    shards: shardCount,
    pinned: files.filter(needsSecondCluster),
    startLoad: [times[unitKey] ?? 0],
  });
  const secs = (list: string[]) => Math.round(list.reduce((s, f) => s + (times[f] ?? 0), 0));
  shards.forEach((list, i) =>
    say(
      `shard ${i + 1}: ${i === 0 ? 'the unit tests and ' : ''}${list.length} integration files (about ${secs(list)} s recorded) on ${shardDir(i + 1)}`,
    ),
  );
  const tallies = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-test-tally-'));
  const tallyOf = (k: number) => path.join(tallies, `${k}.json`);
  const codes = await Promise.all(
    shards.map((list, i) =>
      shard(i + 1, i === 0 ? ['test/unit/', ...list] : list, {
        NSM_CLUSTER_DIR: shardDir(i + 1),
        TALLY_FILE: tallyOf(i + 1),
        TMPDIR: runTmp,
        // The fleet's second cluster is shard 1's alone (its files are pinned there).
        NSM_TEST_CLUSTERS: i === 0 ? clusterCount : '',
      }),
    ),
  );
  const runs = shards.map((_, i) => readTally(tallyOf(i + 1)));
  fs.rmSync(tallies, { recursive: true, force: true });
  const missing = runs.flatMap((r, i) => (r ? [] : [i + 1]));
  if (missing.length) say(`shard ${missing.join(', ')} wrote no tally (it did not get to the end)`);
  const done = runs.filter((r) => r !== undefined);
  const sum = (k: 'passed' | 'failed' | 'skipped') => done.reduce((s, r) => s + r[k], 0);
  const merged = {
    passed: sum('passed'),
    failed: sum('failed'),
    skipped: sum('skipped'),
    skips: done.flatMap((r) => r.skips),
  };
  process.stdout.write(
    `tally (${shardCount} shards): ${merged.passed} passed, ${merged.failed} failed, ${merged.skipped} skipped\n`,
  );
  if (process.env.TALLY_FILE && !missing.length)
    fs.writeFileSync(process.env.TALLY_FILE, `${JSON.stringify(merged)}\n`);
  status = codes.every((c) => c === 0) && !missing.length ? 0 : 1;
  if (status === 0 && process.env.NSM_RECORD_TIMES === '1') {
    const measured = Object.assign({}, ...done.map((r) => r.files ?? {})) as FileTimes;
    const kept = Object.fromEntries([
      ...(times[unitKey] !== undefined ? [[unitKey, times[unitKey]]] : []),
      ...files.filter((f) => measured[f] !== undefined).map((f) => [f, Math.round(measured[f]! * 10) / 10]),
    ]);
    fs.writeFileSync(timesFile, `${JSON.stringify(kept, null, 2)}\n`);
    say(`recorded ${Object.keys(kept).length} files' times in ${path.relative(repoRoot, timesFile)}`);
  }
} catch (err) {
  if (!(err instanceof TypecheckFailed)) throw err;
  say('the type check failed (its findings are above): no test ran');
  noTestRan = true;
} finally {
  await stopStarted();
  leaveRunTmp(status !== 0 && !noTestRan);
}
process.exit(status);
