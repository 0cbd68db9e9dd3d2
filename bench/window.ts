/**
 * The maintenance window benchmark (issue 28): the same manual upgrade at a realistic scale, done
 * twice on the same cluster, each time from a fresh mesh: by this tool, and by the vendor's documented
 * procedure as an experienced operator scripts it (bench/window-script.ts). For each side: the total,
 * the time with no ready control plane, the policy gap and the data plane's convergence, beside the
 * cluster's floor, and a per-step table of where the time went.
 *
 *   node bench/window.ts [--namespaces 50] [--deployments 200] [--per-kind 20] [--min-ready-seconds 2]
 *        [--scenarios openshift,v2] [--concurrency 8] [--no-record]
 *
 *   openshift   1.6.0 -> 1.7.0 on OpenShift (1.6.0: the test bed's nginx-meshctl; 1.7.0: the real one)
 *   v2          1.7.0 -> 2.0.0 with the real binaries ($MESHCTL_REAL_1_7_0, $MESHCTL_REAL_2_0_0)
 *
 * Ours runs `kubectl nsm-upgrade --strategy manual -o json` and reports its own window (its `window`
 * event); the script's figures are read the same way (the same cluster timestamps). Both end in the
 * same state, checked: every Deployment rolled out with target sidecars, every object back.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKube } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { listAll } from '../src/kube/list.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { mapLimit } from '../src/concurrency.ts';
import { concurrencyOption } from '../src/cli/options.ts';
import type { RunWindow, Figure } from '../src/engine/window.ts';
import { missingRealMeshctl, meshctlFor } from '../test/support/real-meshctl.ts';
import { refOf } from '../test/fixtures/backups/cluster.ts';
import { formatResult, recordResults, thisCommand, today, type BenchResult, type WindowFigures } from './results.ts';
import { kubeconfig } from './local.ts';
import { baseline, ours, oursFigures } from './measure.ts';
import {
  appsReady,
  clusterMoments,
  setUp,
  tearDown,
  userKinds,
  waitUntil,
  type Scale,
  type Scenario,
} from './window-setup.ts';
import { runScript } from './window-script.ts';

/** The tool's own default: a run at another --concurrency is recorded under its own name. */
const defaultConcurrency = concurrencyOption.default;
const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '50' },
    deployments: { type: 'string', default: '200' },
    'per-kind': { type: 'string', default: '20' },
    'min-ready-seconds': { type: 'string', default: '2' },
    scenarios: { type: 'string', default: 'openshift,v2' },
    concurrency: { type: 'string', default: String(defaultConcurrency) },
    'no-record': { type: 'boolean', default: false },
  },
});
const scale: Scale = {
  namespaces: Number(args.namespaces),
  deployments: Number(args.deployments),
  perKind: Number(args['per-kind']),
  minReadySeconds: Number(args['min-ready-seconds']),
};
const concurrency = Number(args.concurrency);
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);
const missing = missingRealMeshctl(['1.7.0', '2.0.0']);
if (missing) throw new Error(missing);

const all = [
  {
    key: 'openshift',
    name: 'NSM 1.6.0 -> 1.7.0 on OpenShift',
    from: '1.6.0',
    to: '1.7.0',
    environment: 'openshift' as const,
  },
  { key: 'v2', name: 'NSM 1.7.0 -> 2.0.0', from: '1.7.0', to: '2.0.0', environment: 'kubernetes' as const },
];
const chosen = all.filter((s) => args.scenarios.split(',').includes(s.key));
const kube = await createKube(loadKubeConfig({ kubeconfig }), { maxSockets: 64 });
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-bench-window-'));

const seconds = (f: Figure) => f.seconds;
const figures = (w: {
  total: number;
  controlPlaneDown: number | null;
  policyGap: number | null;
  dataPlane: number | null;
}): WindowFigures => ({
  total_seconds: w.total,
  control_plane_down_seconds: w.controlPlaneDown,
  policy_gap_seconds: w.policyGap,
  data_plane_seconds: w.dataPlane,
});
const between = (from?: string, to?: string) =>
  from && to ? Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000) : null;

/** Each step's time, from the run's -o json events (start and done of each step). */
function stepTable(stdout: string): { name: string; seconds: number }[] {
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { at: string; step: string; event: string });
  const starts = new Map(events.filter((e) => e.event === 'start').map((e) => [e.step, e.at]));
  return events
    .filter((e) => e.event === 'done' && starts.has(e.step))
    .map((e) => ({ name: e.step, seconds: (Date.parse(e.at) - Date.parse(starts.get(e.step)!)) / 1000 }));
}

async function endState(s: Scenario, version: string): Promise<void> {
  await waitUntil(`every Deployment rolled out with ${version} sidecars`, 120_000, () =>
    appsReady(kube, s, scale, version),
  );
  const n = (
    await mapLimit(
      userKinds.flatMap((k) => s.appNamespaces.map((ns) => ({ k, ns }))),
      16,
      ({ k, ns }) => listAll(kube, collectionPath(refOf(k), ns)),
    )
  ).flat().length;
  const want = scale.namespaces * userKinds.length * scale.perKind;
  if (n !== want) throw new Error(`${s.name}: ${n} custom resources after the upgrade, ${want} before`);
}

const results: BenchResult[] = [];
try {
  for (const sc of chosen) {
    const prefix = `bench-win-${Date.now().toString(36)}`;
    const s: Scenario = {
      ...sc,
      meshNamespace: `${prefix}-mesh`,
      appNamespaces: Array.from({ length: scale.namespaces }, (_, i) => `${prefix}-${i}`),
    };
    const bins = ['--meshctl-current', meshctlFor(sc.from).bin, '--meshctl', meshctlFor(sc.to).bin];

    await setUp(kube, s, scale, log);
    const o = await ours([
      '--to',
      sc.to,
      '--strategy',
      'manual',
      '--mesh-namespace',
      s.meshNamespace,
      '--backup-dir',
      path.join(work, `${sc.key}-ours`),
      '--yes',
      '--timeout',
      '15m',
      '--concurrency',
      String(concurrency),
      '-o',
      'json',
      ...bins,
    ]);
    const w = o.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { step: string } & RunWindow)
      .find((e) => e.step === 'window');
    if (!w) throw new Error(`ours printed no window event: ${o.stdout.slice(-2000)}`);
    await endState(s, sc.to);
    const h = w.hops[0]!;
    const oursWindow = figures({
      total: o.seconds,
      controlPlaneDown: seconds(h.controlPlaneDown),
      policyGap: seconds(h.policyGap),
      dataPlane: seconds(h.dataPlane),
    });
    const oursSteps = stepTable(o.stdout);
    log(
      `${sc.name}, ours: ${o.seconds.toFixed(1)} s; control plane down ${oursWindow.control_plane_down_seconds} s, policy gap ${oursWindow.policy_gap_seconds} s, data plane ${oursWindow.data_plane_seconds} s; floor ${o.floor.toFixed(1)} s`,
    );
    await tearDown(kube, s);

    await setUp(kube, s, scale, log);
    const deployments = await Promise.all(
      s.appNamespaces.map(async (ns) =>
        (await listAll(kube, collectionPath(core.deployments, ns))).map((d) => d.metadata!.name!),
      ),
    );
    let script: Awaited<ReturnType<typeof runScript>> | undefined;
    const b = await baseline(async () => {
      script = await runScript(kube, s, {
        parallelism: concurrency,
        deployments,
        dir: path.join(work, `${sc.key}-script`),
      });
    });
    await endState(s, sc.to);
    const m = await clusterMoments(kube, s);
    const scriptWindow = figures({
      total: b.seconds,
      controlPlaneDown: between(script!.removeAt, script!.controlPlaneReadyAt),
      policyGap: between(script!.crdDeletedAt, m.lastCreated),
      dataPlane: between(script!.restartAt, m.lastRolledOut),
    });
    log(
      `${sc.name}, the vendor's procedure scripted: ${b.seconds.toFixed(1)} s; control plane down ${scriptWindow.control_plane_down_seconds} s, policy gap ${scriptWindow.policy_gap_seconds} s, data plane ${scriptWindow.data_plane_seconds} s; floor ${b.floor.toFixed(1)} s`,
    );
    await tearDown(kube, s);

    const half = (a: number | null, b2: number | null) => a !== null && b2 !== null && a <= b2 / 2;
    const goals: [string, boolean][] = [
      [`total <= half the script's (${(o.seconds / b.seconds).toFixed(2)})`, half(o.seconds, b.seconds)],
      [
        `policy gap <= half the script's (${oursWindow.policy_gap_seconds ?? '-'} s vs ${scriptWindow.policy_gap_seconds ?? '-'} s)`,
        half(oursWindow.policy_gap_seconds, scriptWindow.policy_gap_seconds),
      ],
    ];
    const entry: BenchResult = {
      name: `window-${sc.key}-${scale.namespaces}-namespaces${concurrency === defaultConcurrency ? '' : `-concurrency-${concurrency}`}`,
      what: `${sc.name}, manual: ${scale.deployments} injected Deployments (available after ${scale.minReadySeconds} s) over ${scale.namespaces} namespaces, ${scale.perKind} objects of each of 6 kinds per namespace`,
      objects: scale.namespaces * 6 * scale.perKind,
      concurrency,
      ...oursFigures(o),
      window: oursWindow,
      steps: oursSteps,
      baselines: [
        {
          name: 'the vendor procedure, scripted by an experienced operator',
          command:
            'bench/window-script.ts: six kubectl get | jq at once; nginx-meshctl remove; [OpenShift: restart out, kubectl wait --for=delete job/csi-driver-sentinel]; nginx-meshctl deploy; kubectl wait; kubectl create -f (six at once, again while refused); kubectl rollout restart per namespace at once + rollout status',
          seconds: b.seconds,
          parallelism: concurrency,
          floor_seconds: b.floor,
          window: scriptWindow,
          steps: script!.phases,
        },
      ],
      goal: goals.map(([g, ok]) => `${g}: ${ok ? 'met' : 'not met'}`).join('; '),
      met: goals.every(([, ok]) => ok),
      date: today(),
      command: thisCommand(),
      note: `nginx-meshctl ${sc.from} ${meshctlFor(sc.from).kind}, ${sc.to} ${meshctlFor(sc.to).kind}; window figures: ours from its own window event (cluster timestamps where the cluster keeps the moment), the script's read the same way; 1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores at the end`,
    };
    log(formatResult(entry));
    for (const [who, steps] of [
      ['ours', oursSteps],
      ['script', script!.phases],
    ] as const) {
      process.stderr.write(
        `  where the time went (${who}):\n${steps.map((x) => `    ${x.seconds.toFixed(1).padStart(7)} s  ${x.name}`).join('\n')}\n`,
      );
    }
    results.push(entry);
  }
  if (!args['no-record']) {
    await recordResults(results);
    log('wrote bench/results.json');
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
