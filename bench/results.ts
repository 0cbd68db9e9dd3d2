import fs from 'node:fs/promises';
import path from 'node:path';

/** One benchmark result, as the issues ask for it. */
export interface BenchResult {
  name: string;
  objects: number;
  ours_seconds: number;
  baseline_seconds: number;
  speedup: number;
  peak_rss_mb: number;
}

const root = path.resolve(import.meta.dirname, '..');

/** Merges results into bench/<file> (replacing earlier entries of the same name), rounded. Returns the whole file. */
export async function recordResults(file: 'results.json' | 'results-restart.json', results: readonly BenchResult[]): Promise<BenchResult[]> {
  const full = path.join(root, 'bench', file);
  const previous = await fs.readFile(full, 'utf8').then((t) => JSON.parse(t) as BenchResult[], () => []);
  const round = (r: BenchResult): BenchResult => ({ ...r, ours_seconds: +r.ours_seconds.toFixed(2), baseline_seconds: +r.baseline_seconds.toFixed(2), speedup: +r.speedup.toFixed(2), peak_rss_mb: +r.peak_rss_mb.toFixed(1) });
  const merged = [...previous.filter((p) => !results.some((r) => r.name === p.name)), ...results.map(round)];
  await fs.writeFile(full, `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}
