/**
 * The mesh a window benchmark upgrades (bench/window.ts): NSM `from`, deployed with its nginx-meshctl
 * (the real binary where .cluster/env has one, else the test bed's stand-in: 1.6.0), N namespaces
 * labelled for injection, D Deployments over them whose pods the mesh emulator injects and which
 * count as available only after minReadySeconds (as bench/restart.ts models real pods), and K
 * objects of each of the six user kinds per namespace. Torn down to nothing after each side.
 */
import type { Kube, KubeObject } from '../src/kube/client.ts';
import { listAll } from '../src/kube/list.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { catalog } from '../src/mesh/catalog.ts';
import { mapLimit } from '../src/concurrency.ts';
import { isTransient } from '../src/backup/apply.ts';
import { realClock } from '../src/clock.ts';
import { notYet, ready, waitFor } from '../src/wait.ts';
import { deploymentStatus, type DeploymentLike } from '../src/workloads/rollout-rules.ts';
import { refOf, sampleObject } from '../test/fixtures/backups/cluster.ts';
import { clearMeshTraces, meshctlFor } from '../test/support/real-meshctl.ts';
import { run } from '../test/support/mesh-scenario.ts';
import { kubeconfig } from './local.ts';

export interface Scale {
  namespaces: number;
  deployments: number;
  perKind: number;
  minReadySeconds: number;
}

export interface Scenario {
  name: string;
  from: string;
  to: string;
  environment: 'kubernetes' | 'openshift';
  meshNamespace: string;
  appNamespaces: string[];
}

/** The six kinds of the documented backup. */
export const userKinds = catalog.filter((k) => k.kind !== 'MeshConfig');
export const injectLabel = { 'injector.nsm.nginx.com/auto-inject': 'enabled' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || attempt > 60) throw err;
      await sleep(1000);
    }
  }
}

/** nginx-meshctl `version` runs `args` against the local cluster; throws with its output on failure. */
export async function meshctl(version: string, args: string[]): Promise<void> {
  const r = await run(meshctlFor(version).bin, ['-k', kubeconfig, ...args]);
  if (r.exitCode !== 0)
    throw new Error(
      `nginx-meshctl ${version} ${args.join(' ')} exited ${r.exitCode}: ${(r.stderr || r.stdout).slice(-2000)}`,
    );
}

type Dep = DeploymentLike & KubeObject;
type Pod = KubeObject & { metadata: { annotations?: Record<string, string> } };

/** Every app Deployment rolled out and every app pod injected by `version`. */
export async function appsReady(kube: Kube, s: Scenario, scale: Scale, version: string | null): Promise<boolean> {
  const deps = (
    await mapLimit(s.appNamespaces, 16, (ns) => listAll<Dep>(kube, collectionPath(core.deployments, ns)))
  ).flat();
  if (deps.length !== scale.deployments || deps.some((d) => deploymentStatus(d).state !== 'done')) return false;
  const pods = (
    await mapLimit(s.appNamespaces, 16, (ns) =>
      listAll<
        Pod & { spec?: { containers?: { name: string; image: string }[] }; metadata: { deletionTimestamp?: string } }
      >(kube, collectionPath(core.pods, ns)),
    )
  )
    .flat()
    .filter((p) => !p.metadata.deletionTimestamp);
  const sidecar = (p: (typeof pods)[number]) =>
    p.spec?.containers
      ?.find((c) => c.name === 'nginx-mesh-sidecar')
      ?.image.split(':')
      .pop() ?? null;
  return pods.length === scale.deployments && pods.every((p) => sidecar(p) === version);
}

/** Polls `check` every second until it holds (src/wait.ts), or throws naming `what` after `timeoutMs`. */
export function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  return waitFor({ clock: realClock, timeoutMs, intervalMs: 1000, what }, async () =>
    (await check()) ? ready(undefined) : notYet(''),
  );
}

export async function setUp(kube: Kube, s: Scenario, scale: Scale, log: (m: string) => void): Promise<void> {
  await clearMeshTraces(kube);
  await meshctl(s.from, ['-n', s.meshNamespace, 'deploy', '--environment', s.environment, '-t', '10m']);
  await mapLimit(s.appNamespaces, 16, (name) =>
    kube.request({
      method: 'POST',
      path: collectionPath(core.namespaces),
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: injectLabel } },
    }),
  );
  // The injector answers once its pod runs: creates are retried until it admits them.
  await mapLimit(
    Array.from({ length: scale.deployments }, (_, i) => i),
    16,
    (i) => {
      const ns = s.appNamespaces[i % s.appNamespaces.length]!;
      const app = `app-${i}`;
      return retrying(() =>
        kube.request({
          method: 'POST',
          path: collectionPath(core.deployments, ns),
          body: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: app, labels: { app } },
            spec: {
              replicas: 1,
              minReadySeconds: scale.minReadySeconds,
              selector: { matchLabels: { app } },
              template: {
                metadata: { labels: { app } },
                spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], terminationGracePeriodSeconds: 0 },
              },
            },
          },
        }),
      );
    },
  );
  const objects = s.appNamespaces.flatMap((ns) =>
    userKinds.flatMap((k) => Array.from({ length: scale.perKind }, (_, i) => ({ k, ns, i }))),
  );
  await mapLimit(objects, 32, ({ k, ns, i }) =>
    retrying(() =>
      kube.request({ method: 'POST', path: collectionPath(refOf(k), ns), body: benchObject(k, ns, i), noRetry: true }),
    ),
  );
  await waitUntil(`${scale.deployments} Deployments rolled out with ${s.from} sidecars`, 900_000, () =>
    appsReady(kube, s, scale, s.from),
  );
  log(
    `${s.name}: NSM ${s.from} (${s.environment}), ${scale.deployments} injected Deployments over ${s.appNamespaces.length} namespaces, ${objects.length} custom resources`,
  );
}

/**
 * The test fixtures' sample object, but as the real charts' CRDs keep it: their TCPRoute (v1alpha3) has a
 * spec without fields, so a spec.matches would be pruned by the target (the upgrade's schema check refuses
 * that loss, rightly) and never exists on a real cluster.
 */
function benchObject(k: (typeof userKinds)[number], ns: string, i: number): KubeObject {
  const o = sampleObject(k, ns, i);
  return k.kind === 'TCPRoute' ? { ...o, spec: {} } : o;
}

/** Nothing left: no mesh, no CRD, no app namespace (a removal on OpenShift keeps the mesh namespace). */
export async function tearDown(kube: Kube, s: Scenario): Promise<void> {
  await clearMeshTraces(kube);
  for (const ns of [s.meshNamespace, ...s.appNamespaces])
    await kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
  await waitUntil('the benchmark namespaces deleted', 900_000, async () => {
    const left = (await listAll(kube, collectionPath(core.namespaces))).filter((n) =>
      [s.meshNamespace, ...s.appNamespaces].includes(n.metadata?.name ?? ''),
    );
    return left.length === 0;
  });
}

/** The cluster's own moments after a side: the newest creationTimestamp of the app objects, the newest Deployment rollout completion. */
export async function clusterMoments(
  kube: Kube,
  s: Scenario,
): Promise<{ lastCreated?: string; lastRolledOut?: string }> {
  type D = KubeObject & { status?: { conditions?: { type: string; reason?: string; lastUpdateTime?: string }[] } };
  const newest = (ts: (string | undefined)[]) =>
    ts
      .filter((t): t is string => Boolean(t))
      .sort((a, b) => Date.parse(a) - Date.parse(b))
      .at(-1);
  const objects = (
    await mapLimit(
      userKinds.flatMap((k) => s.appNamespaces.map((ns) => ({ k, ns }))),
      16,
      ({ k, ns }) => listAll(kube, collectionPath(refOf(k), ns)),
    )
  ).flat();
  const deps = (
    await mapLimit(s.appNamespaces, 16, (ns) => listAll<D>(kube, collectionPath(core.deployments, ns)))
  ).flat();
  const lastCreated = newest(objects.map((o) => (o.metadata as { creationTimestamp?: string }).creationTimestamp));
  const lastRolledOut = newest(
    deps.map(
      (d) =>
        d.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')
          ?.lastUpdateTime,
    ),
  );
  return { ...(lastCreated ? { lastCreated } : {}), ...(lastRolledOut ? { lastRolledOut } : {}) };
}
