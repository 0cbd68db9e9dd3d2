/**
 * One benchmark result, as issue 18 asks for it: ours, each baseline (what an experienced user
 * would run, and at what parallelism), the cluster's floor for our run and our efficiency against
 * it, and our peak RSS. Every entry says the date and the command that produced it.
 *
 *   floor_seconds = the CPU-seconds the cluster's own processes spent during our run / the cores:
 *                   no client could finish this work here in less, whatever it does;
 *   efficiency    = floor_seconds / ours_seconds (1.0 = the machine's limit).
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** A maintenance window's figures (bench/window.ts; null where a figure does not apply or was not seen). */
export interface WindowFigures {
  total_seconds: number;
  control_plane_down_seconds: number | null;
  policy_gap_seconds: number | null;
  data_plane_seconds: number | null;
}

/** Where the time went: each step (ours) or phase (a script), in order. */
export type StepTimes = { name: string; seconds: number }[];

export interface Baseline {
  name: string;
  /** The commands, as a user would type them. */
  command: string;
  seconds: number;
  /** How many requests or processes it had in flight at most. */
  parallelism: number;
  /** The cluster's floor during this baseline (its CPU-seconds over the cores). */
  floor_seconds?: number;
  note?: string;
  window?: WindowFigures;
  steps?: StepTimes;
}

export interface BenchResult {
  name: string;
  /** What was measured, in a few words. */
  what: string;
  objects: number;
  /** Our concurrency (requests or rollouts in flight at most). */
  concurrency: number;
  ours_seconds: number;
  /** Our own process's CPU-seconds (user + system), where measured. */
  ours_cpu_seconds?: number;
  cluster_cpu_seconds: number;
  floor_seconds: number;
  efficiency: number;
  peak_rss_mb: number;
  baselines: Baseline[];
  /** The goal of the issue, when it sets one, and whether this run met it. */
  goal?: string;
  met?: boolean;
  /** The maintenance window (bench/window.ts). */
  window?: WindowFigures;
  steps?: StepTimes;
  /** Runs behind the figure (the median is reported), when more than one. */
  runs?: number;
  note?: string;
  date: string;
  command: string;
}

export const resultsFile = path.resolve(import.meta.dirname, 'results.json');

const r2 = (x: number) => (Number.isFinite(x) ? +x.toFixed(2) : x);

/** Merges results into bench/results.json (replacing earlier entries of the same name). Returns the whole file. */
export async function recordResults(results: readonly BenchResult[]): Promise<BenchResult[]> {
  const previous = await fs.readFile(resultsFile, 'utf8').then(
    (t) => JSON.parse(t) as BenchResult[],
    () => [],
  );
  const round = (r: BenchResult): BenchResult => ({
    ...r,
    ours_seconds: +r.ours_seconds.toFixed(3),
    ...(r.ours_cpu_seconds !== undefined ? { ours_cpu_seconds: r2(r.ours_cpu_seconds) } : {}),
    cluster_cpu_seconds: r2(r.cluster_cpu_seconds),
    floor_seconds: r2(r.floor_seconds),
    efficiency: r2(r.efficiency),
    peak_rss_mb: +r.peak_rss_mb.toFixed(1),
    baselines: r.baselines.map((b) => ({
      ...b,
      seconds: +b.seconds.toFixed(3),
      ...(b.floor_seconds !== undefined ? { floor_seconds: r2(b.floor_seconds) } : {}),
    })),
  });
  const merged = [...previous.filter((p) => !results.some((r) => r.name === p.name)), ...results.map(round)];
  await fs.writeFile(resultsFile, `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}

/** The day a result was measured (UTC). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The command line that reproduces this benchmark run. */
export function thisCommand(): string {
  return [
    'node',
    path.relative(path.resolve(import.meta.dirname, '..'), process.argv[1]!),
    ...process.argv.slice(2),
  ].join(' ');
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One line per result: ours, each baseline, floor, efficiency, RSS. */
const windowText = (w: WindowFigures | undefined) =>
  w
    ? ` [control plane down ${w.control_plane_down_seconds ?? '-'} s, policy gap ${w.policy_gap_seconds ?? '-'} s, data plane ${w.data_plane_seconds ?? '-'} s]`
    : '';

export function formatResult(r: BenchResult): string {
  const base = r.baselines
    .map(
      (b) =>
        `${b.name} ${b.seconds.toFixed(2)} s${windowText(b.window)} (${(b.seconds / r.ours_seconds).toFixed(1)}x, parallelism ${b.parallelism}${b.floor_seconds !== undefined ? `, floor ${b.floor_seconds.toFixed(2)} s` : ''})`,
    )
    .join('; ');
  return (
    `${r.name}: ours ${r.ours_seconds.toFixed(2)} s${windowText(r.window)} at concurrency ${r.concurrency}, floor ${r.floor_seconds.toFixed(2)} s, efficiency ${r.efficiency.toFixed(2)}, peak RSS ${r.peak_rss_mb.toFixed(0)} MB` +
    `${base ? `; ${base}` : ''}${r.goal ? `; goal ${r.goal} => ${r.met ? 'met' : 'NOT met'}` : ''}`
  );
}
