/**
 * `npm test` after the type check: the whole suite, with the integration files split over two local
 * clusters that run at once (issue 24). The integration and conformance files wait on the cluster most
 * of their time (rollouts, nginx-meshctl's own waits), one file at a time per cluster, so a second
 * cluster serving a second shard of them nearly halves the suite's wall time on two cores.
 *
 * - Shard 1 runs the unit tests and its integration files on the usual cluster (.cluster, with the fleet
 *   tests' second cluster when NSM_TEST_CLUSTERS=2); shard 2 runs the others on a cluster of its own
 *   (.cluster-shard-2). Files that need the fleet's second cluster stay in shard 1; the rest are dealt,
 *   slowest first, to the shard with less time so far, by the times in test/integration/file-times.json
 *   (NSM_RECORD_TIMES=1 rewrites it from a passing run; a file it lacks counts as the median).
 * - Both clusters are started here, one after the other, before either shard (their start builds and
 *   caches binaries once), and stopped afterwards when this run started them (KEEP_CLUSTER=1 keeps them).
 * - Each shard's lines are printed as they come, prefixed [1] or [2]; the run ends with the sum of both
 *   tallies (and writes it to TALLY_FILE when set, as `.ci/run` reads it). Exit 1 when either shard fails.
 * - NSM_TEST_SHARDS=1, TEST_KUBECONFIG or TEST_CLUSTER: one `vitest run`, as before (a given cluster
 *   is one cluster). Arguments after `--` go to vitest (both shards).
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
const shardDir = path.join(repoRoot, '.cluster-shard-2');
const passThrough = process.argv.slice(2).filter((a) => a !== '--');

const oneShard = process.env.NSM_TEST_SHARDS === '1' || !!process.env.TEST_KUBECONFIG || !!process.env.TEST_CLUSTER;
if (oneShard) {
  const r = await execa(node, [vitest, 'run', ...passThrough], { stdio: 'inherit', reject: false });
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

/** Files that use the fleet's second cluster (test/support/fleet-clusters.ts): only shard 1 has it. */
function needsSecondCluster(file: string): boolean {
  return fs.readFileSync(path.join(repoRoot, file), 'utf8').includes('fleet-clusters');
}

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

/** One shard: vitest on its files, its lines prefixed; resolves to its exit code. */
async function shard(n: number, filters: string[], env: Record<string, string>): Promise<number> {
  const child = execa(node, [vitest, 'run', ...passThrough, ...filters], {
    cwd: repoRoot,
    env,
    reject: false,
    all: true,
    buffer: false,
  });
  const lines = readline.createInterface({ input: child.all });
  lines.on('line', (l) => process.stdout.write(`[${n}] ${l}\n`));
  const r = await child;
  return r.exitCode ?? 1;
}

function readTally(file: string): (Tally & { files?: Record<string, number> }) | undefined {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

await execa(node, [path.join(repoRoot, 'test/cluster/fresh-bundles.ts')], { stdio: 'inherit', cwd: repoRoot });
const clusters = process.env.NSM_TEST_CLUSTERS ? ['--clusters', process.env.NSM_TEST_CLUSTERS] : [];
const started: string[] = [];
const stopStarted = async () => {
  if (process.env.KEEP_CLUSTER === '1') return;
  for (const dir of started.reverse()) await down(dir);
};
let status = 1;
try {
  if (await up(mainDir, clusters)) started.push(mainDir);
  if (await up(shardDir, [])) started.push(shardDir);

  const files = integrationFiles();
  const times = readTimes();
  const [one, two] = dealShards(files, times, { pinned: files.filter(needsSecondCluster) });
  const secs = (fs: string[]) => Math.round(fs.reduce((s, f) => s + (times[f] ?? 0), 0));
  say(
    `shard 1: the unit tests and ${one.length} integration files (about ${secs(one)} s) on ${mainDir}; ` +
      `shard 2: ${two.length} integration files (about ${secs(two)} s) on ${shardDir}`,
  );
  const tallies = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-test-tally-'));
  const t1 = path.join(tallies, '1.json');
  const t2 = path.join(tallies, '2.json');
  const codes = await Promise.all([
    shard(1, ['test/unit/', ...one], { NSM_CLUSTER_DIR: mainDir, TALLY_FILE: t1 }),
    shard(2, two, { NSM_CLUSTER_DIR: shardDir, TALLY_FILE: t2, NSM_TEST_CLUSTERS: '' }),
  ]);
  const runs = [readTally(t1), readTally(t2)];
  fs.rmSync(tallies, { recursive: true, force: true });
  const missing = runs.flatMap((r, i) => (r ? [] : [i + 1]));
  if (missing.length) say(`shard ${missing.join(' and ')} wrote no tally (it did not get to the end)`);
  const done = runs.filter((r) => r !== undefined);
  const sum = (k: 'passed' | 'failed' | 'skipped') => done.reduce((s, r) => s + r[k], 0);
  const merged = {
    passed: sum('passed'),
    failed: sum('failed'),
    skipped: sum('skipped'),
    skips: done.flatMap((r) => r.skips),
  };
  process.stdout.write(
    `tally (both shards): ${merged.passed} passed, ${merged.failed} failed, ${merged.skipped} skipped\n`,
  );
  if (process.env.TALLY_FILE && !missing.length)
    fs.writeFileSync(process.env.TALLY_FILE, `${JSON.stringify(merged)}\n`);
  status = codes.every((c) => c === 0) && !missing.length ? 0 : 1;
  if (status === 0 && process.env.NSM_RECORD_TIMES === '1') {
    const measured = Object.assign({}, ...done.map((r) => r.files ?? {})) as FileTimes;
    const kept = Object.fromEntries(
      files.filter((f) => measured[f] !== undefined).map((f) => [f, Math.round(measured[f]! * 10) / 10]),
    );
    fs.writeFileSync(timesFile, `${JSON.stringify(kept, null, 2)}\n`);
    say(`recorded ${Object.keys(kept).length} files' times in ${path.relative(repoRoot, timesFile)}`);
  }
} finally {
  await stopStarted();
}
process.exit(status);
