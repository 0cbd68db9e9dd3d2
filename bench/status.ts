/**
 * Benchmark of issue 6: `kubectl nsm-upgrade status` over 5,000 injected pods on the local cluster
 * (issue goal: under 3 s), beside what a user would run to see sidecar versions without the tool
 * (`kubectl get pods -A -l spiffe.io/spiffeid=true -o json`, which still leaves owners unresolved).
 *
 *   node bench/status.ts [--pods 5000] [--namespaces 5]
 *
 * Pods come from Deployments (so owners resolve through ReplicaSets) whose schedulerName names no
 * scheduler: they stay Pending, which status reads the same way, and KWOK has nothing to run.
 * The entry is merged into bench/results-restart.json as {name, objects, ours_seconds,
 * baseline_seconds, speedup, peak_rss_mb}.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { recordResults } from './results.ts';
import { kubeconfig, kubectlBin, timed } from './local.ts';
import { createKube } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { listPages } from '../src/kube/list.ts';
import { skewReport } from '../src/workloads/index.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { create, createNamespace, deleteNamespace, deployment, fakeControlPlane } from '../test/integration/workloads-manifests.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { pods: { type: 'string', default: '5000' }, namespaces: { type: 'string', default: '5' } } });
const total = Number(args.pods);
const nsCount = Number(args.namespaces);
const prefix = `bench-st-${Date.now().toString(36)}`;
const mesh = `${prefix}-mesh`;
const namespaces = Array.from({ length: nsCount }, (_, i) => `${prefix}-${i}`);
// The machine is shared: each line carries the 1-minute load average, to read the figures by.
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);

const kube = await createKube(loadKubeConfig({ kubeconfig }));

async function countPods(): Promise<number> {
  let n = 0;
  for (const ns of namespaces) for await (const page of listPages(kube, collectionPath(core.pods, ns), { limit: 1000 })) n += page.length;
  return n;
}

try {
  await createNamespace(kube, mesh);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  const perNs = Math.ceil(total / nsCount);
  for (const [i, ns] of namespaces.entries()) {
    await createNamespace(kube, ns);
    // two Deployments per namespace, one per sidecar version: a mixed mesh, as mid-upgrade
    for (const [j, version] of ['1.6.0', '1.7.0'].entries()) {
      const d = deployment(`app-${j}`, { version, replicas: Math.floor(perNs / 2) + (j === 0 ? perNs % 2 : 0) });
      (d.spec.template.spec as { schedulerName?: string }).schedulerName = 'nsm-bench-unscheduled';
      await create(kube, ns, d);
    }
    log(`namespace ${i + 1}/${nsCount} created`);
  }
  const seeded = await timed(async () => {
    for (;;) {
      const n = await countPods();
      if (n >= total) return n;
      log(`${n}/${total} pods created by the controllers...`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  });
  log(`${seeded.value} pods in ${seeded.seconds.toFixed(1)}s`);

  const runs: { seconds: number; rssMb: number; pods: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const t = await timed(() => execa('/usr/bin/time', ['-v', path.join(root, 'bin/kubectl-nsm_upgrade'), '--kubeconfig', kubeconfig, 'status', '--mesh-namespace', mesh, '-o', 'json'], { reject: false }));
    if (t.value.exitCode !== 4 && t.value.exitCode !== 0) throw new Error(`status failed (${t.value.exitCode}): ${String(t.value.stderr).slice(0, 2000)}`);
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(String(t.value.stderr));
    runs.push({ seconds: t.seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN, pods: (JSON.parse(String(t.value.stdout)) as { pods: number }).pods });
    log(`status run ${i + 1}: ${t.seconds.toFixed(2)}s, ${runs.at(-1)!.pods} injected pods, peak RSS ${runs.at(-1)!.rssMb.toFixed(0)} MB`);
  }
  // the same report in-process: the list and the grouping alone, without the CLI's start-up
  const inProcess: number[] = [];
  for (let i = 0; i < 3; i++) inProcess.push((await timed(() => skewReport({ kube }, { meshNamespace: mesh }))).seconds);
  log(`skewReport in-process: ${inProcess.map((x) => x.toFixed(2)).join('s, ')}s`);
  const base = await timed(() => execa(kubectlBin, ['--kubeconfig', kubeconfig, 'get', 'pods', '-A', '-l', 'spiffe.io/spiffeid=true', '-o', 'json'], { stdout: 'ignore' }));
  log(`baseline kubectl get pods -A -l spiffe.io/spiffeid=true -o json: ${base.seconds.toFixed(2)}s`);
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[1]!;
  log(`status: median ${median.seconds.toFixed(2)}s, best ${best.seconds.toFixed(2)}s over ${median.pods} pods (goal < 3 s)`);
  const entry = { name: 'status', objects: median.pods, ours_seconds: +median.seconds.toFixed(2), baseline_seconds: +base.seconds.toFixed(2), speedup: +(base.seconds / median.seconds).toFixed(2), peak_rss_mb: +median.rssMb.toFixed(1) };
  await recordResults('results-restart.json', [entry]);
  log('wrote bench/results-restart.json');
} finally {
  log('cleaning up...');
  for (const ns of [mesh, ...namespaces]) await deleteNamespace(kube, ns);
}
