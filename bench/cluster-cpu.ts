/**
 * CPU time spent by the local cluster's own processes (etcd, kube-apiserver, controller-manager,
 * scheduler, KWOK), read from /proc for the pids in .cluster/state.json. A benchmark samples it
 * around each timed run to show how much of the machine the server side used: on 2 cores, a run
 * whose server side needs S CPU-seconds cannot finish in less than S / 2 seconds, whatever the
 * client does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterDir } from '../test/support/cluster.ts';

const clockTicks = 100; // USER_HZ on Linux

function pids(): number[] {
  const state = JSON.parse(fs.readFileSync(path.join(clusterDir, 'state.json'), 'utf8')) as {
    processes: { pid: number }[];
  };
  return state.processes.map((p) => p.pid);
}

/** utime + stime of one process in seconds, or 0 when it cannot be read (not Linux, gone). */
function cpuOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clockTicks;
  } catch {
    return 0;
  }
}

/** Total CPU seconds the cluster's processes have used so far. */
export function clusterCpuSeconds(): number {
  return pids().reduce((sum, pid) => sum + cpuOf(pid), 0);
}

export const cores = os.availableParallelism();

/** The machine's total and stolen CPU ticks so far (/proc/stat): a virtual machine's host may take its CPU away. */
function machineTicks(): { total: number; steal: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 };
  }
}

/**
 * Runs `fn` and returns the cluster CPU seconds it caused (with everything else the cluster did
 * meanwhile) and the share of the machine's CPU the host stole meanwhile (0..1), to read a figure by.
 */
export async function withClusterCpu<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; clusterCpu: number; steal: number }> {
  const before = clusterCpuSeconds();
  const t0 = machineTicks();
  const value = await fn();
  const t1 = machineTicks();
  return {
    value,
    clusterCpu: clusterCpuSeconds() - before,
    steal: t1.total > t0.total ? (t1.steal - t0.steal) / (t1.total - t0.total) : 0,
  };
}
