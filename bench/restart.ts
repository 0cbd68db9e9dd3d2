/**
 * Re-roll benchmark: `kubectl nsm-upgrade restart --restart all` over N injected Deployments spread
 * over M namespaces, against what an experienced user would run at the same parallelism, and the
 * one-by-one loop of the vendor's docs.
 *
 *   node bench/restart.ts [--deployments 100] [--namespaces 1] [--concurrency 8] [--min-ready-seconds 0] [--one-by-one auto|yes|no]
 *
 * ours:       kubectl nsm-upgrade restart --restart all --concurrency C
 * fair:       kubectl rollout restart deployment -n NS (every Deployment of a namespace in one command),
 *             for the namespaces C at a time, then kubectl rollout status deployment/NAME for each, C at once
 * one-by-one: kubectl rollout restart + kubectl rollout status, one Deployment after another
 *             (auto: only up to 200 Deployments, it takes minutes)
 *
 * KWOK makes pods Ready the instant they are scheduled, so a rollout here costs only the control
 * plane's work; real pods take seconds (image pull, readiness probe). --min-ready-seconds models that
 * with the Deployments' own minReadySeconds, for every run alike. Each run must leave every
 * Deployment with a new restartedAt and fully rolled out (the same end state).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { formatResult, recordResults, thisCommand, today, type Baseline } from './results.ts';
import { kubeconfig, kubectlBin } from './local.ts';
import { baseline, ours, oursFigures } from './measure.ts';
import { apiCounts, delta } from './api-counts.ts';
import { createKube, type KubeObject } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { listAll } from '../src/kube/list.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { mapLimit } from '../src/concurrency.ts';
import { deploymentStatus, type DeploymentLike } from '../src/workloads/rollout-rules.ts';
import {
  create,
  createNamespace,
  deleteNamespace,
  deployment,
  fakeControlPlane,
} from '../test/integration/workloads-manifests.ts';

const { values: args } = parseArgs({
  options: {
    deployments: { type: 'string', default: '100' },
    namespaces: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'min-ready-seconds': { type: 'string', default: '0' },
    'one-by-one': { type: 'string', default: 'auto' },
  },
});
const minReadySeconds = Number(args['min-ready-seconds']);
const total = Number(args.deployments);
const nsCount = Number(args.namespaces);
const concurrency = Number(args.concurrency);
const oneByOne = args['one-by-one'] === 'yes' || (args['one-by-one'] === 'auto' && total <= 200);
const prefix = `bench-rr-${Date.now().toString(36)}`;
const mesh = `${prefix}-mesh`;
const namespaces = Array.from({ length: nsCount }, (_, i) => `${prefix}-${i}`);
const apps = Array.from({ length: total }, (_, i) => ({ ns: namespaces[i % nsCount]!, name: `app-${i}` }));
// The machine is shared: each line carries the 1-minute load average, to read the figures by.
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);

async function kubectl(argv: string[]): Promise<void> {
  const res = await execa(kubectlBin, ['--kubeconfig', kubeconfig, ...argv], { reject: false });
  if (res.exitCode !== 0) throw new Error(`kubectl ${argv.join(' ')} failed: ${String(res.stderr).slice(0, 2000)}`);
}

const kube = await createKube(loadKubeConfig({ kubeconfig }), { maxSockets: 64 });
type Dep = DeploymentLike & KubeObject & { spec: { template: { metadata: { annotations?: Record<string, string> } } } };

async function benchDeployments(): Promise<Dep[]> {
  return (await mapLimit(namespaces, 16, (ns) => listAll<Dep>(kube, collectionPath(core.deployments, ns)))).flat();
}

/** Every Deployment rolled out (kubectl's rules) with a restartedAt newer than `since`. */
async function endState(since: number): Promise<{ rolledOut: number; restarted: number }> {
  const deps = await benchDeployments();
  const at = (d: Dep) =>
    Date.parse(d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '') || 0;
  return {
    rolledOut: deps.filter((d) => deploymentStatus(d).state === 'done').length,
    restarted: deps.filter((d) => at(d) >= Math.floor(since / 1000) * 1000).length,
  };
}

function check(what: string, s: { rolledOut: number; restarted: number }): void {
  log(`${what}: ${s.restarted}/${total} restarted, ${s.rolledOut}/${total} rolled out`);
  if (s.rolledOut !== total || s.restarted !== total)
    throw new Error(`${what}: end state differs from the goal (all ${total} restarted and rolled out)`);
}

/**
 * Waits until the cluster has settled, so each timed run starts from the same quiet state: no
 * namespace terminating (a previous run's cleanup deletes objects in the background), only the
 * Deployments' current pods left, and no injected pod outside this benchmark (ours re-rolls every
 * injected workload of the cluster).
 */
async function settled(): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const nss = await listAll<KubeObject & { status?: { phase?: string } }>(kube, collectionPath(core.namespaces));
    const terminating = nss.filter((n) => n.status?.phase === 'Terminating').length;
    const pods = await listAll<KubeObject>(kube, collectionPath(core.pods), {
      labelSelector: 'spiffe.io/spiffeid=true',
    });
    const foreign = pods.filter((p) => !p.metadata?.namespace?.startsWith(prefix)).length;
    const leaving = pods.filter((p) => p.metadata?.deletionTimestamp).length;
    if (terminating === 0 && leaving === 0 && foreign === 0 && (pods.length === 0 || pods.length === total)) break;
    if (Date.now() - t0 > 600_000)
      throw new Error(
        `the cluster did not settle in 10 minutes (${terminating} namespaces terminating, ${pods.length} injected pods, ${foreign} outside the benchmark)`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (Date.now() - t0 > 1000) log(`waited ${((Date.now() - t0) / 1000).toFixed(1)}s for the cluster to settle`);
}

async function timedBaseline(
  name: string,
  command: string,
  parallelism: number,
  fn: () => Promise<unknown>,
): Promise<Baseline> {
  await new Promise((r) => setTimeout(r, 1100)); // a later restartedAt second than the run before, so the check sees this one's
  await settled();
  const start = Date.now();
  const b = await baseline(fn);
  log(`${name}: ${b.seconds.toFixed(2)}s, cluster floor ${b.floor.toFixed(2)}s`);
  check(`after ${name}`, await endState(start));
  return { name, command, seconds: b.seconds, parallelism, floor_seconds: b.floor };
}

try {
  await settled();
  await createNamespace(kube, mesh);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  await mapLimit(namespaces, 16, (ns) => createNamespace(kube, ns));
  await mapLimit(apps, 16, async ({ ns, name }) => {
    const d = deployment(name, { version: '1.7.0' });
    const withMinReady = { ...d, spec: { ...d.spec, minReadySeconds } };
    await create(kube, ns, withMinReady);
  });
  for (let t0 = Date.now(); ;) {
    const done = (await benchDeployments()).filter((d) => deploymentStatus(d).state === 'done').length;
    if (done >= total) break;
    if (Date.now() - t0 > 900_000) throw new Error(`only ${done}/${total} Deployments became available in 15 minutes`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  log(`${total} injected Deployments in ${nsCount} namespace(s) ready; minReadySeconds ${minReadySeconds}`);

  await settled();
  const startOurs = Date.now();
  const countsBefore = await apiCounts();
  const o = await ours([
    'restart',
    '--mesh-namespace',
    mesh,
    '--restart',
    'all',
    '--concurrency',
    String(concurrency),
    '--timeout',
    '15m',
    '-o',
    'json',
  ]);
  const result = JSON.parse(o.stdout) as {
    restarted: { seconds: number }[];
    concurrency: number;
    final: { converged: boolean };
  };
  const per = result.restarted.map((r) => r.seconds).sort((a, b) => a - b);
  log(
    `ours: ${o.seconds.toFixed(2)}s, ${result.restarted.length} restarted, at most ${result.concurrency} at once, converged ${result.final.converged}; ` +
      `per rollout min ${per[0]}s, median ${per[Math.floor(per.length / 2)]}s, max ${per.at(-1)}s; cluster floor ${o.floor.toFixed(2)}s, efficiency ${o.efficiency.toFixed(2)}, our CPU ${o.cpuSeconds.toFixed(1)}s`,
  );
  // What the server counted during our run (the controllers' own requests included, so an upper bound for ours).
  const countsAfter = await apiCounts();
  const requests = {
    watches: delta(countsBefore, countsAfter, /^WATCH deployments /),
    lists: delta(countsBefore, countsAfter, /^LIST deployments /),
    patches: delta(countsBefore, countsAfter, /^PATCH deployments /),
    throttled: delta(countsBefore, countsAfter, / 429$/),
  };
  log(
    `the API server counted during ours: ${requests.watches} WATCH and ${requests.lists} LIST of deployments for ${nsCount} namespace(s), ${requests.patches} PATCH, ${requests.throttled} answers 429`,
  );
  if (result.restarted.length !== total)
    throw new Error(`ours restarted ${result.restarted.length} workloads, expected ${total}`);
  check('after ours', await endState(startOurs));

  const baselines: Baseline[] = [];
  baselines.push(
    await timedBaseline(
      `kubectl rollout restart per namespace + rollout status, ${concurrency} at once`,
      `kubectl rollout restart deployment -n NS (per namespace), then kubectl rollout status deployment/NAME -n NS, ${concurrency} processes at once`,
      concurrency,
      async () => {
        await mapLimit(namespaces, concurrency, (ns) => kubectl(['rollout', 'restart', 'deployment', '-n', ns]));
        await mapLimit(apps, concurrency, ({ ns, name }) =>
          kubectl(['rollout', 'status', '-n', ns, `deployment/${name}`, '--timeout', '15m']),
        );
      },
    ),
  );
  if (oneByOne) {
    baselines.push(
      await timedBaseline(
        'kubectl rollout restart + rollout status, one by one',
        'for each Deployment: kubectl rollout restart deployment/NAME; kubectl rollout status deployment/NAME',
        1,
        async () => {
          for (const { ns, name } of apps) {
            await kubectl(['rollout', 'restart', '-n', ns, `deployment/${name}`]);
            await kubectl(['rollout', 'status', '-n', ns, `deployment/${name}`, '--timeout', '15m']);
          }
        },
      ),
    );
  } else {
    log(
      `one-by-one loop left out: ${total} Deployments one after another take many minutes (--one-by-one yes runs it)`,
    );
  }
  const fair = baselines[0]!.seconds / o.seconds;
  const loop = baselines[1] ? baselines[1].seconds / o.seconds : undefined;
  // The efficiency goal is for instant pods: with minReadySeconds the wait, not the CPU, bounds a re-roll.
  const goals = [[`>= 2x the fair baseline at equal parallelism (${fair.toFixed(1)}x)`, fair >= 2]] as [
    string,
    boolean,
  ][];
  if (!minReadySeconds) goals.push([`efficiency >= 0.8 (${o.efficiency.toFixed(2)})`, o.efficiency >= 0.8]);
  if (loop !== undefined && concurrency === 8)
    goals.push([`>= 5x the one-by-one loop at the default concurrency (${loop.toFixed(1)}x)`, loop >= 5]);
  const goal = goals.map(([g, ok]) => `${g}: ${ok ? 'met' : 'not met'}`).join('; ');
  const met = goals.every(([, ok]) => ok);
  const entry = {
    name: `restart-${total}-deployments-${nsCount}-namespaces-concurrency-${concurrency}-min-ready-${minReadySeconds}s`,
    what: `re-roll ${total} injected Deployments over ${nsCount} namespace(s), pods available ${minReadySeconds ? `after ${minReadySeconds} s` : 'at once (KWOK)'}`,
    objects: total,
    concurrency,
    ...oursFigures(o),
    baselines,
    goal,
    met,
    date: today(),
    command: thisCommand(),
    note:
      `the API server counted ${requests.watches} WATCH and ${requests.lists} LIST of deployments over ${nsCount} namespace(s), ${requests.patches} PATCH, ${requests.throttled} answers 429 during ours` +
      `${minReadySeconds ? `; every pod waits ${minReadySeconds} s before it counts as available: the floor counts only the cluster's CPU, not that wait` : ''}` +
      `; 1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores at the end`,
  };
  log(formatResult(entry));
  await recordResults([entry]);
  log('wrote bench/results.json');
} finally {
  log('cleaning up...');
  await mapLimit([mesh, ...namespaces], 16, (ns) => deleteNamespace(kube, ns));
}
