// node bench/table.ts — bench/results.json as the Markdown table of docs/performance.md (one row per result).
import fs from 'node:fs';
import { resultsFile, type BenchResult } from './results.ts';

const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as BenchResult[];
const s = (x: number) => (x < 1 ? `${(x * 1000).toFixed(0)} ms` : `${x.toFixed(2)} s`);
const rows = results.map((r) => {
  const ratio = (b: number) =>
    b >= r.ours_seconds
      ? `ours ${(b / r.ours_seconds).toFixed(1)}x faster`
      : `ours ${(r.ours_seconds / b).toFixed(1)}x slower`;
  const baselines = r.baselines.map((b) => `${b.name}: ${s(b.seconds)} (${ratio(b.seconds)})`).join('<br>');
  const goal = r.goal ? `${r.goal} => ${r.met ? '**met**' : '**not met**'}` : '';
  return `| ${r.what} | ${s(r.ours_seconds)}${r.concurrency > 1 ? ` at concurrency ${r.concurrency}` : ''} | ${baselines} | ${s(r.floor_seconds)} | ${r.efficiency.toFixed(2)} | ${r.peak_rss_mb.toFixed(0)} MB | ${goal} | ${r.date} |`;
});
process.stdout.write(
  [
    '| benchmark | ours | baselines (what an experienced user runs) | floor | efficiency | peak RSS | goal | date |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n') + '\n',
);
