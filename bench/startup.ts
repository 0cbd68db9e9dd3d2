/**
 * Benchmark of issue 18 (start-up): time to first output of the bundled CLI (bin/kubectl-nsm_upgrade
 * running dist/cli.mjs) for `--help` and for `status` on a cluster with no mesh (goal: < 0.2 s,
 * median of 10), beside the plain kubectl start-up (`kubectl version --client`, `kubectl get ns`).
 *
 *   node bench/startup.ts [--runs 10] [--cli PATH] [--no-record] [--compile-cache on|off|both]
 *
 * Builds dist/cli.mjs first (build/bundle.ts). Each command runs once untimed (the warm-up: the page
 * cache, and the compile cache's first fill), then --runs times. `status` asks for a mesh namespace
 * that does not exist: the designed answer is exit 2 with "no NGINX Service Mesh control plane ...
 * found", checked on every run. --cli measures another launcher (e.g. an older commit's checkout)
 * and implies --no-record. --compile-cache off runs with NODE_DISABLE_COMPILE_CACHE=1; both
 * alternates on and off run by run (an A/B on this shared machine) and records nothing.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { cli, measure, type Measured } from './measure.ts';
import { kubeconfig, kubectlBin } from './local.ts';
import { formatResult, median, recordResults, thisCommand, today, type BenchResult } from './results.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    cli: { type: 'string' },
    'no-record': { type: 'boolean', default: false },
    'compile-cache': { type: 'string', default: 'on' },
  },
});
const runs = Number(args.runs);
const tool = args.cli ? path.resolve(args.cli) : cli;
const record = !args['no-record'] && !args.cli && args['compile-cache'] === 'on';
const modes = ({ on: ['on'], off: ['off'], both: ['on', 'off'] } as const)[
  args['compile-cache'] as 'on' | 'off' | 'both'
];
if (!Number.isInteger(runs) || runs < 1 || !modes)
  throw new Error('usage: node bench/startup.ts [--runs N] [--cli PATH] [--no-record] [--compile-cache on|off|both]');
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);
const envOf = (mode: 'on' | 'off'): Record<string, string> =>
  mode === 'off' ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {};

interface Case {
  name: string;
  what: string;
  args: string[];
  okExit: number[];
  withCluster: boolean;
  check: (m: Measured) => void;
  baseline: { name: string; file: string; args: string[] };
}

const absent = `nsm-bench-absent-${Date.now().toString(36)}`;
const cases: Case[] = [
  {
    name: 'startup --help',
    what: 'time to first output of `kubectl nsm-upgrade --help` (bundled CLI)',
    args: ['--help'],
    okExit: [0],
    withCluster: false,
    check: (m) => {
      if (!/kubectl nsm-upgrade status\b/.test(m.stdout))
        throw new Error(`--help printed no command list: ${m.stdout.slice(0, 500)}`);
    },
    baseline: {
      name: 'kubectl version --client (plain kubectl start-up, time to first output)',
      file: kubectlBin,
      args: ['version', '--client'],
    },
  },
  {
    name: 'startup status (no mesh)',
    what: 'time to first output of `kubectl nsm-upgrade status` on a cluster with no mesh (bundled CLI)',
    args: ['--kubeconfig', kubeconfig, 'status', '--mesh-namespace', absent],
    okExit: [2],
    withCluster: true,
    check: (m) => {
      if (m.exitCode !== 2 || !/no NGINX Service Mesh control plane .* found in namespace/.test(m.stderr))
        throw new Error(`status did not say there is no mesh (exit ${m.exitCode}): ${m.stderr.slice(0, 800)}`);
    },
    baseline: {
      name: 'kubectl get ns (plain kubectl start-up and one request, time to first output)',
      file: kubectlBin,
      args: ['--kubeconfig', kubeconfig, 'get', 'ns'],
    },
  },
];

const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const fmt = (xs: number[]) => {
  const s = stats(xs);
  return `median ${s.median.toFixed(3)} s, min ${s.min.toFixed(3)}, max ${s.max.toFixed(3)}`;
};

log('building dist/cli.mjs (build/bundle.ts)');
await execa(process.execPath, [path.join(root, 'build/bundle.ts')], { cwd: root, stdio: 'inherit' });

const results: BenchResult[] = [];
for (const c of cases) {
  const runOurs = async (mode: 'on' | 'off') => {
    const m = await measure(tool, c.args, { okExit: c.okExit, withCluster: c.withCluster, env: envOf(mode) });
    c.check(m);
    return m;
  };
  for (const mode of modes) await runOurs(mode); // untimed warm-up run(s): not counted
  log(
    `${c.name}: 1 untimed warm-up run per setting, then ${runs} timed run(s)${modes.length > 1 ? ' per setting, alternating compile cache on/off' : ''}`,
  );
  const ours = new Map<string, Measured[]>(modes.map((m) => [m, []]));
  for (let i = 0; i < runs; i++) for (const mode of modes) ours.get(mode)!.push(await runOurs(mode));
  for (const [mode, ms] of ours) {
    log(
      `${c.name}, compile cache ${mode}: first output ${fmt(ms.map((m) => m.firstOutputSeconds))}; total ${fmt(ms.map((m) => m.seconds))}; cpu ${median(ms.map((m) => m.cpuSeconds)).toFixed(3)} s; RSS ${median(ms.map((m) => m.rssMb)).toFixed(0)} MB`,
    );
  }
  const base: Measured[] = [];
  await measure(c.baseline.file, c.baseline.args, { withCluster: false }); // warm-up
  for (let i = 0; i < runs; i++)
    base.push(await measure(c.baseline.file, c.baseline.args, { withCluster: c.withCluster }));
  log(
    `baseline ${c.baseline.name}: first output ${fmt(base.map((m) => m.firstOutputSeconds))}; total ${fmt(base.map((m) => m.seconds))}`,
  );

  const ms = ours.get(modes[0])!;
  const first = stats(ms.map((m) => m.firstOutputSeconds));
  const total = stats(ms.map((m) => m.seconds));
  const floor = c.withCluster ? median(ms.map((m) => m.floor)) : 0;
  results.push({
    name: c.name,
    what: c.what,
    objects: 0,
    concurrency: 1,
    ours_seconds: first.median,
    ours_cpu_seconds: median(ms.map((m) => m.cpuSeconds)),
    cluster_cpu_seconds: c.withCluster ? median(ms.map((m) => m.clusterCpu)) : 0,
    floor_seconds: floor,
    efficiency: floor / first.median,
    peak_rss_mb: median(ms.map((m) => m.rssMb)),
    baselines: [
      {
        name: c.baseline.name,
        command: [
          path.basename(c.baseline.file),
          ...c.baseline.args.map((a) => (a === kubeconfig ? 'KUBECONFIG' : a)),
        ].join(' '),
        seconds: median(base.map((m) => m.firstOutputSeconds)),
        parallelism: 1,
        ...(c.withCluster ? { floor_seconds: median(base.map((m) => m.floor)) } : {}),
      },
    ],
    goal: '< 0.2 s',
    met: first.median < 0.2,
    runs,
    note:
      `ours_seconds = median time to first output byte (stdout or stderr) over ${runs} runs after 1 untimed warm-up, compile cache ${modes[0]}; first output min ${first.min.toFixed(3)} s, max ${first.max.toFixed(3)} s; total time median ${total.median.toFixed(3)} s, min ${total.min.toFixed(3)}, max ${total.max.toFixed(3)}; 1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores (shared machine)` +
      (c.withCluster
        ? "; the floor is the cluster's CPU during our run over the cores: start-up is client-side work, so the efficiency is tiny by nature"
        : '; no cluster involved: floor 0'),
    date: today(),
    command: thisCommand(),
  });
}

for (const r of results) process.stdout.write(`${formatResult(r)}\n`);
if (record) {
  await recordResults(results);
  log('merged into bench/results.json');
} else log('not recorded (--no-record, --cli or --compile-cache other than on)');
