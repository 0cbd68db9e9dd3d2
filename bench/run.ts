// npm run bench — every benchmark, one after another, on the local cluster (started if needed;
// stopped afterwards only if this run started it). Each benchmark merges its entries into
// bench/results.json (backup/restore) or bench/results-restart.json (status, restart), as
// {name, objects, ours_seconds, baseline_seconds, speedup, peak_rss_mb}; this prints them all.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

const root = path.resolve(import.meta.dirname, '..');
const node = process.execPath;
const clusterDir = process.env.NSM_CLUSTER_DIR ?? path.join(root, '.cluster');
const wasUp = fs.existsSync(path.join(clusterDir, 'state.json'));
const run = (file: string, args: string[] = []) => execa(node, [path.join(root, file), ...args], { stdio: 'inherit', cwd: root });

// Measure what users run: the bundle (bin/kubectl-nsm_upgrade falls back to src/*.ts, which
// starts slower and takes more memory, whenever a source file is newer than the bundle).
await run('build/bundle.ts');
await run('test/cluster/up.ts');
try {
  await run('bench/backup-restore.ts');
  await run('bench/status.ts');
  // Real pods take seconds to become available; KWOK's are instant. Both settings are reported.
  await run('bench/restart.ts', ['--min-ready-seconds', '2']);
  await run('bench/restart.ts', ['--concurrency', '32']);
  // All 100 at once: the re-roll is then bound by the control plane's CPU alone (the log states that floor).
  await run('bench/restart.ts', ['--concurrency', '100']);
} finally {
  if (!wasUp) await run('test/cluster/down.ts');
}
for (const f of ['bench/results.json', 'bench/results-restart.json']) {
  const p = path.join(root, f);
  if (!fs.existsSync(p)) continue;
  process.stdout.write(`\n${f}\n`);
  for (const r of JSON.parse(fs.readFileSync(p, 'utf8')) as { name: string; objects: number; ours_seconds: number; baseline_seconds: number; speedup: number; peak_rss_mb: number }[]) {
    process.stdout.write(`  ${r.name.padEnd(44)} ${String(r.objects).padStart(6)} objects  ours ${r.ours_seconds.toFixed(2).padStart(7)} s  baseline ${r.baseline_seconds.toFixed(2).padStart(7)} s  ${r.speedup.toFixed(1).padStart(5)}x  peak RSS ${r.peak_rss_mb.toFixed(0)} MB\n`);
  }
}
