/**
 * Benchmark of issue 6: re-rolling 100 injected Deployments on the local cluster, ours
 * (`kubectl nsm-upgrade restart --restart all`) against the baseline a user would run:
 * `kubectl rollout restart` then `kubectl rollout status` for each Deployment, one after another.
 *
 *   node bench/restart.ts [--deployments 100] [--concurrency 8] [--min-ready-seconds 0]
 *
 * KWOK makes pods Ready the instant they are scheduled, so a rollout here costs only the control
 * plane's work; real pods take seconds (image pull, readiness probe). --min-ready-seconds models that
 * with the Deployment's own minReadySeconds (a pod counts as available only after being Ready that
 * long), for both runs alike.
 *
 * Both re-roll the same Deployments (sidecars already on the control plane's 1.7.0, so both end
 * converged); after each run every Deployment must carry a new restartedAt and be fully rolled out
 * (same end state). The entry is merged into bench/results-restart.json.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { recordResults } from './results.ts';
import { kubeconfig, kubectlBin, timed } from './local.ts';
import { cores, withClusterCpu } from './cluster-cpu.ts';
import { createKube, type KubeObject } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { listAll } from '../src/kube/list.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { deploymentStatus, type DeploymentLike } from '../src/workloads/rollout-rules.ts';
import { create, createNamespace, deleteNamespace, deployment, fakeControlPlane } from '../test/integration/workloads-manifests.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { deployments: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '8' }, 'min-ready-seconds': { type: 'string', default: '0' } } });
const minReadySeconds = Number(args['min-ready-seconds']);
const total = Number(args.deployments);
const concurrency = args.concurrency;
const prefix = `bench-rr-${Date.now().toString(36)}`;
const mesh = `${prefix}-mesh`;
const apps = `${prefix}-apps`;
const names = Array.from({ length: total }, (_, i) => `app-${i}`);
// The machine is shared: each line carries the 1-minute load average, to read the figures by.
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);

async function kubectl(argv: string[]): Promise<void> {
  const res = await execa(kubectlBin, ['--kubeconfig', kubeconfig, ...argv], { reject: false });
  if (res.exitCode !== 0) throw new Error(`kubectl ${argv.join(' ')} failed: ${String(res.stderr).slice(0, 2000)}`);
}

const kube = await createKube(loadKubeConfig({ kubeconfig }));
type Dep = DeploymentLike & KubeObject & { spec: { template: { metadata: { annotations?: Record<string, string> } } } };

/** Every Deployment rolled out (kubectl's rules) with a restartedAt newer than `since`. */
async function endState(since: number): Promise<{ rolledOut: number; restarted: number }> {
  const deps = await listAll<Dep>(kube, collectionPath(core.deployments, apps));
  const at = (d: Dep) => Date.parse(d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '') || 0;
  return {
    rolledOut: deps.filter((d) => deploymentStatus(d).state === 'done').length,
    restarted: deps.filter((d) => at(d) >= Math.floor(since / 1000) * 1000).length,
  };
}

function check(what: string, s: { rolledOut: number; restarted: number }): void {
  log(`${what}: ${s.restarted}/${total} restarted, ${s.rolledOut}/${total} rolled out`);
  if (s.rolledOut !== total || s.restarted !== total) throw new Error(`${what}: end state differs from the goal (all ${total} restarted and rolled out)`);
}

/**
 * Waits until the cluster has settled, so each timed run starts from the same quiet state: no
 * namespace terminating (a previous run's cleanup deletes hundreds of objects in the background)
 * and only the Deployments' current pods left in the apps namespace.
 */
async function settled(): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const nss = await listAll<KubeObject & { status?: { phase?: string } }>(kube, collectionPath(core.namespaces));
    const terminating = nss.filter((n) => n.status?.phase === 'Terminating').length;
    const pods = nss.some((n) => n.metadata?.name === apps) ? await listAll<KubeObject>(kube, collectionPath(core.pods, apps)) : [];
    const leaving = pods.filter((p) => p.metadata?.deletionTimestamp).length;
    if (terminating === 0 && leaving === 0 && (pods.length === 0 || pods.length === total)) break;
    if (Date.now() - t0 > 300_000) throw new Error(`the cluster did not settle in 5 minutes (${terminating} namespaces terminating, ${pods.length} pods in ${apps})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  if (Date.now() - t0 > 1000) log(`waited ${((Date.now() - t0) / 1000).toFixed(1)}s for the cluster to settle`);
}

try {
  await settled();
  await createNamespace(kube, mesh);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  await createNamespace(kube, apps);
  for (const name of names) {
    const d = deployment(name, { version: '1.7.0' });
    const withMinReady = { ...d, spec: { ...d.spec, minReadySeconds } };
    await create(kube, apps, withMinReady);
  }
  const seeded = await timed(async () => {
    for (;;) {
      const deps = await listAll<Dep>(kube, collectionPath(core.deployments, apps));
      const done = deps.filter((d) => deploymentStatus(d).state === 'done').length;
      if (done >= total) return done;
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
  log(`minReadySeconds ${minReadySeconds}`);
  log(`${total} injected Deployments ready in ${seeded.seconds.toFixed(1)}s`);

  await settled();
  const startOurs = Date.now();
  const { value: ours, clusterCpu: oursCpu, steal } = await withClusterCpu(() => timed(() => execa('/usr/bin/time', ['-v', path.join(root, 'bin/kubectl-nsm_upgrade'), '--kubeconfig', kubeconfig, 'restart', '--mesh-namespace', mesh, '-n', apps, '--restart', 'all', '--concurrency', concurrency, '--timeout', '5m', '-o', 'json'], { reject: false })));
  if (ours.value.exitCode !== 0) throw new Error(`restart failed (${ours.value.exitCode}): ${String(ours.value.stderr).slice(-3000)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(String(ours.value.stderr));
  const result = JSON.parse(String(ours.value.stdout)) as { restarted: { seconds: number }[]; concurrency: number; final: { converged: boolean } };
  const per = result.restarted.map((r) => r.seconds).sort((a, b) => a - b);
  log(`ours: ${ours.seconds.toFixed(2)}s, ${result.restarted.length} restarted, at most ${result.concurrency} at once, converged ${result.final.converged}; `
    + `per rollout min ${per[0]}s, median ${per[Math.floor(per.length / 2)]}s, max ${per.at(-1)}s`);
  log(`cluster CPU during ours: ${oursCpu.toFixed(1)} s, so on ${cores} cores no re-roll of these ${total} Deployments can take under ${(oursCpu / cores).toFixed(1)} s `
    + `(CPU stolen by the host meanwhile: ${(steal * 100).toFixed(0)}%)`);
  check('after ours', await endState(startOurs));

  await new Promise((r) => setTimeout(r, 1100)); // a later restartedAt second than ours, so the check below sees the baseline's
  await settled();
  const startBase = Date.now();
  const base = await timed(async () => {
    for (const name of names) {
      await kubectl(['rollout', 'restart', '-n', apps, `deployment/${name}`]);
      await kubectl(['rollout', 'status', '-n', apps, `deployment/${name}`, '--timeout', '5m']);
    }
  });
  log(`baseline (kubectl rollout restart + rollout status, sequential): ${base.seconds.toFixed(2)}s`);
  check('after baseline', await endState(startBase));

  const speedup = base.seconds / ours.seconds;
  log(`speedup ${speedup.toFixed(1)}x`);
  const entry = { name: `restart-${total}-deployments-concurrency-${concurrency}-min-ready-${minReadySeconds}s`, objects: total, ours_seconds: +ours.seconds.toFixed(2), baseline_seconds: +base.seconds.toFixed(2), speedup: +speedup.toFixed(2), peak_rss_mb: rss ? +(Number(rss[1]) / 1024).toFixed(1) : NaN };
  await recordResults('results-restart.json', [entry]);
  log('wrote bench/results-restart.json');
} finally {
  log('cleaning up...');
  for (const ns of [mesh, apps]) await deleteNamespace(kube, ns);
}
