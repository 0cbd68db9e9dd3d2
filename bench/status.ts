/**
 * Status benchmark: `kubectl nsm-upgrade status` over N injected pods, beside what a user would run
 * to see sidecar versions without the tool (`kubectl get pods -A -l spiffe.io/spiffeid=true -o json`,
 * which still leaves owners unresolved). Both sides run the same number of times; medians are reported.
 *
 *   node bench/status.ts [--pods 5000] [--namespaces 5] [--runs 3]
 *
 * Pods come from Deployments (so owners resolve through ReplicaSets) whose schedulerName names no
 * scheduler: they stay Pending, which status reads the same way, and KWOK has nothing to run.
 * Goals (issue 18): 5,000 pods < 1.5 s; 50,000 pods < 10 s with peak RSS < 300 MB.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { formatResult, median, recordResults, thisCommand, today } from './results.ts';
import { kubeconfig, kubectlBin } from './local.ts';
import { baseline, ours, type Measured } from './measure.ts';
import { createKube } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { mapLimit } from '../src/concurrency.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import {
  create,
  createNamespace,
  deleteNamespace,
  deployment,
  fakeControlPlane,
} from '../test/integration/workloads-manifests.ts';

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '5000' },
    namespaces: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
  },
});
const total = Number(args.pods);
const nsCount = Number(args.namespaces);
const runs = Number(args.runs);
const prefix = `bench-st-${Date.now().toString(36)}`;
const mesh = `${prefix}-mesh`;
const namespaces = Array.from({ length: nsCount }, (_, i) => `${prefix}-${i}`);
// The machine is shared: each line carries the 1-minute load average, to read the figures by.
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);

const kube = await createKube(loadKubeConfig({ kubeconfig }));

/** The pods the controllers have created: the Deployments' status.replicas (listing 50,000 pods every few seconds would load the cluster). */
async function countPods(): Promise<number> {
  const counts = await mapLimit(namespaces, 8, async (ns) => {
    const list = await kube.request<{ items: { status?: { replicas?: number } }[] }>({
      path: collectionPath(core.deployments, ns),
    });
    return list.items.reduce((n, d) => n + (d.status?.replicas ?? 0), 0);
  });
  return counts.reduce((a, b) => a + b, 0);
}

try {
  await createNamespace(kube, mesh);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  const perNs = Math.ceil(total / nsCount);
  await mapLimit(namespaces, 8, async (ns) => {
    await createNamespace(kube, ns);
    // two Deployments per namespace, one per sidecar version: a mixed mesh, as mid-upgrade
    for (const [j, version] of ['1.6.0', '1.7.0'].entries()) {
      const d = deployment(`app-${j}`, { version, replicas: Math.floor(perNs / 2) + (j === 0 ? perNs % 2 : 0) });
      (d.spec.template.spec as { schedulerName?: string }).schedulerName = 'nsm-bench-unscheduled';
      await create(kube, ns, d);
    }
  });
  const t0 = Date.now();
  for (;;) {
    const n = await countPods();
    if (n >= perNs * nsCount) {
      log(`${n} pods in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      break;
    }
    log(`${n}/${perNs * nsCount} pods created by the controllers...`);
    if (Date.now() - t0 > 1_800_000) throw new Error(`only ${n} pods after 30 minutes`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  const pods = perNs * nsCount;

  const oursRuns: (Measured & { pods: number })[] = [];
  for (let i = 0; i < runs; i++) {
    const m = await ours(['status', '--mesh-namespace', mesh, '-o', 'json'], { okExit: [0, 4] });
    oursRuns.push({ ...m, pods: (JSON.parse(m.stdout) as { pods: number }).pods });
    log(
      `status run ${i + 1}: ${m.seconds.toFixed(2)}s, ${oursRuns.at(-1)!.pods} injected pods, peak RSS ${m.rssMb.toFixed(0)} MB, our CPU ${m.cpuSeconds.toFixed(2)}s, cluster floor ${m.floor.toFixed(2)}s`,
    );
    if (oursRuns.at(-1)!.pods !== pods)
      throw new Error(`status counted ${oursRuns.at(-1)!.pods} pods, expected ${pods}`);
  }
  const baseRuns: { seconds: number; floor: number }[] = [];
  for (let i = 0; i < runs; i++) {
    baseRuns.push(
      await baseline(() =>
        execa(
          kubectlBin,
          ['--kubeconfig', kubeconfig, 'get', 'pods', '-A', '-l', 'spiffe.io/spiffeid=true', '-o', 'json'],
          { stdout: 'ignore' },
        ),
      ),
    );
    log(`kubectl get pods run ${i + 1}: ${baseRuns.at(-1)!.seconds.toFixed(2)}s`);
  }
  const mid = [...oursRuns].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs / 2)]!;
  const goalSeconds = pods > 10_000 ? 10 : 1.5;
  const entry = {
    name: `status-${pods}-pods`,
    what: `status over ${pods} injected pods in ${nsCount} namespaces`,
    objects: pods,
    concurrency: 1,
    ours_seconds: mid.seconds,
    ours_cpu_seconds: mid.cpuSeconds,
    cluster_cpu_seconds: mid.clusterCpu,
    floor_seconds: mid.floor,
    efficiency: mid.efficiency,
    peak_rss_mb: Math.max(...oursRuns.map((r) => r.rssMb)),
    runs,
    baselines: [
      {
        name: 'kubectl get pods -A -l spiffe.io/spiffeid=true -o json',
        command: 'kubectl get pods -A -l spiffe.io/spiffeid=true -o json (owners unresolved, versions not counted)',
        seconds: median(baseRuns.map((b) => b.seconds)),
        parallelism: 1,
        floor_seconds: median(baseRuns.map((b) => b.floor)),
      },
    ],
    goal: `< ${goalSeconds} s${pods > 10_000 ? ', peak RSS < 300 MB' : ''}`,
    met: mid.seconds < goalSeconds && (pods <= 10_000 || Math.max(...oursRuns.map((r) => r.rssMb)) < 300),
    note: `both sides list page after page (ours 250 pods a page, the next asked for while one is read; kubectl 500): concurrency 1; median of the runs, peak RSS the highest; 1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores at the end`,
    date: today(),
    command: thisCommand(),
  };
  log(formatResult(entry));
  await recordResults([entry]);
  log('wrote bench/results.json');
} finally {
  log('cleaning up...');
  await mapLimit([mesh, ...namespaces], 8, (ns) => deleteNamespace(kube, ns));
}
