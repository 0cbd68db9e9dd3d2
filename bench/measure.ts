/**
 * Runs one command of ours (the bundled CLI) or a baseline as a child process and measures it: wall
 * time, the cluster's CPU-seconds meanwhile (its floor), and for ours the peak RSS and CPU time from
 * /usr/bin/time -v. Time to first output is measured too (first byte on stdout or stderr).
 */
import path from 'node:path';
import { execa } from 'execa';
import { kubeconfig } from './local.ts';
import { cores, withClusterCpu } from './cluster-cpu.ts';
import type { BenchResult } from './results.ts';

const root = path.resolve(import.meta.dirname, '..');
export const cli = path.join(root, 'bin/kubectl-nsm_upgrade');

export interface Measured {
  seconds: number;
  firstOutputSeconds: number;
  clusterCpu: number;
  floor: number;
  efficiency: number;
  rssMb: number;
  cpuSeconds: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  steal: number;
}

/** Runs `file args` under /usr/bin/time -v, with the cluster's CPU sampled around it. */
export async function measure(
  file: string,
  args: readonly string[],
  opts: { okExit?: readonly number[]; env?: Record<string, string>; withCluster?: boolean } = {},
): Promise<Measured> {
  const run = async () => {
    const t0 = performance.now();
    let first = 0;
    const child = execa('/usr/bin/time', ['-v', file, ...args], { reject: false, env: opts.env, buffer: true });
    const mark = () => {
      if (!first) first = performance.now();
    };
    child.stdout?.once('data', mark);
    // /usr/bin/time writes only after the child ends: the child's own first byte on stderr counts.
    child.stderr?.once('data', mark);
    const res = await child;
    return { res, seconds: (performance.now() - t0) / 1000, first: ((first || performance.now()) - t0) / 1000 };
  };
  const { value, clusterCpu, steal } =
    opts.withCluster === false ? { value: await run(), clusterCpu: 0, steal: 0 } : await withClusterCpu(run);
  const { res, seconds, first } = value;
  const stderr = String(res.stderr);
  const num = (re: RegExp) => Number(re.exec(stderr)?.[1] ?? NaN);
  const rssMb = num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024;
  const cpuSeconds = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  const ok = opts.okExit ?? [0];
  if (!ok.includes(res.exitCode ?? -1))
    throw new Error(`${path.basename(file)} ${args.join(' ')} exited ${res.exitCode}: ${stderr.slice(-3000)}`);
  const floor = clusterCpu / cores;
  return {
    seconds,
    firstOutputSeconds: first,
    clusterCpu,
    floor,
    efficiency: floor / seconds,
    rssMb,
    cpuSeconds,
    exitCode: res.exitCode ?? -1,
    stdout: String(res.stdout),
    stderr,
    steal,
  };
}

/** A result's figures of our one measured run, as bench/results.json names them. */
export function oursFigures(
  m: Measured,
): Pick<
  BenchResult,
  'ours_seconds' | 'ours_cpu_seconds' | 'cluster_cpu_seconds' | 'floor_seconds' | 'efficiency' | 'peak_rss_mb'
> {
  return {
    ours_seconds: m.seconds,
    ours_cpu_seconds: m.cpuSeconds,
    cluster_cpu_seconds: m.clusterCpu,
    floor_seconds: m.floor,
    efficiency: m.efficiency,
    peak_rss_mb: m.rssMb,
  };
}

/** Our bundled CLI with the local cluster's kubeconfig. */
export function ours(args: readonly string[], opts: Parameters<typeof measure>[2] = {}): Promise<Measured> {
  return measure(cli, ['--kubeconfig', kubeconfig, ...args], opts);
}

/** Runs `fn` (a baseline: kubectl commands), returning its wall time and the cluster's floor meanwhile. */
export async function baseline(
  fn: () => Promise<unknown>,
): Promise<{ seconds: number; floor: number; clusterCpu: number }> {
  const { value, clusterCpu } = await withClusterCpu(async () => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  });
  return { seconds: value, floor: clusterCpu / cores, clusterCpu };
}
