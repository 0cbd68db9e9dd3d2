// npm run bench [-- --scale] [-- --only NAME,...] — every benchmark, one after another, on the local
// cluster (started if needed; stopped afterwards only if this run started it). Each merges its
// entries into bench/results.json (see bench/results.ts); this prints them all at the end, and
// bench/table.ts turns them into the table of docs/performance.md.
//
//   (default)  startup, backup-restore 10k, status 5k, restart 100 (pods ready after 2 s at the default
//              concurrency and at 100; KWOK's instant pods at concurrency 8 and 32)
//   --scale    also: status 50k pods, backup-restore 100k objects, restart 1,000 Deployments over 50 namespaces
//   window     only with --only window: the manual upgrade at scale, ours beside the vendor's procedure
//              scripted (50 namespaces, 200 Deployments, 6,000 objects; 1.6.0 -> 1.7.0 OpenShift, 1.7.0 -> 2.0.0)
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { formatResult, resultsFile, type BenchResult } from './results.ts';

const root = path.resolve(import.meta.dirname, '..');
const node = process.execPath;
const { values: args } = parseArgs({
  options: { scale: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const clusterDir = process.env.NSM_CLUSTER_DIR ?? path.join(root, '.cluster');
const wasUp = fs.existsSync(path.join(clusterDir, 'state.json'));
const run = (file: string, argv: string[] = []) =>
  execa(node, [path.join(root, file), ...argv], { stdio: 'inherit', cwd: root });

const benches: { name: string; file: string; args: string[]; scale?: boolean; onlyWhenAsked?: boolean }[] = [
  { name: 'startup', file: 'bench/startup.ts', args: [] },
  {
    name: 'backup-restore',
    file: 'bench/backup-restore.ts',
    args: ['--objects', '10000', '--namespaces', '100', '--concurrency', '32'],
  },
  { name: 'status', file: 'bench/status.ts', args: ['--pods', '5000', '--namespaces', '5'] },
  // Real pods take seconds to become available; KWOK's are instant. Both are reported.
  {
    name: 'restart',
    file: 'bench/restart.ts',
    args: ['--deployments', '100', '--min-ready-seconds', '2', '--concurrency', '8'],
  },
  // The fair baseline restarts every Deployment at once: ours at --concurrency 100 has as many in flight.
  {
    name: 'restart',
    file: 'bench/restart.ts',
    args: ['--deployments', '100', '--min-ready-seconds', '2', '--concurrency', '100', '--one-by-one', 'no'],
  },
  { name: 'restart', file: 'bench/restart.ts', args: ['--deployments', '100', '--concurrency', '8'] },
  {
    name: 'restart',
    file: 'bench/restart.ts',
    args: ['--deployments', '100', '--concurrency', '32', '--one-by-one', 'no'],
  },
  { name: 'status', file: 'bench/status.ts', args: ['--pods', '50000', '--namespaces', '50'], scale: true },
  {
    name: 'backup-restore',
    file: 'bench/backup-restore.ts',
    args: ['--objects', '100000', '--namespaces', '100', '--concurrency', '32'],
    scale: true,
  },
  {
    name: 'restart',
    file: 'bench/restart.ts',
    args: ['--deployments', '1000', '--namespaces', '50', '--concurrency', '32'],
    scale: true,
  },
  // Two full upgrades per scenario, each from a fresh mesh (about an hour on 2 cores): run when asked.
  {
    name: 'window',
    file: 'bench/window.ts',
    args: ['--namespaces', '50', '--deployments', '200', '--per-kind', '20', '--min-ready-seconds', '2'],
    onlyWhenAsked: true,
  },
];
const only = args.only ? new Set(args.only.split(',')) : undefined;
const chosen = benches.filter((b) => (only ? only.has(b.name) : !b.onlyWhenAsked) && (!b.scale || args.scale));

// Measure what users run: the bundle (bin/kubectl-nsm_upgrade falls back to src/*.ts, which
// starts slower and takes more memory, whenever a source file is newer than the bundle).
await run('build/bundle.ts');
await run('test/cluster/up.ts');
try {
  for (const b of chosen) {
    process.stderr.write(`\n[bench] === ${b.file} ${b.args.join(' ')} ===\n`);
    await run(b.file, b.args);
  }
} finally {
  if (!wasUp) await run('test/cluster/down.ts');
}
process.stdout.write(`\n${path.relative(root, resultsFile)}\n`);
for (const r of JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as BenchResult[])
  process.stdout.write(`  ${formatResult(r)}\n`);
