/**
 * A mesh to upgrade, on the test cluster: NSM deployed by the nginx-meshctl stand-in or by helm,
 * namespaces of injected workloads (the emulator injects them), and SMI/NGINX resources in each.
 * Shared by the upgrade integration tests and the demo.
 */
import path from 'node:path';
import { execa } from 'execa';
import type { Kube, KubeObject } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core, objectPath, type ResourceRef } from '../../src/kube/paths.ts';
import { clusterEnv, kubeconfigPath, repoRoot } from './cluster.ts';
import { decodeReleaseSecret, meshChartName } from '../../src/mesh/release.ts';
import { meshCrdSelector } from '../../src/mesh/catalog.ts';
import { settled, waitFor } from './wait.ts';
import { injectedPodSelector } from '../../src/workloads/injection.ts';
import { crdDeletionNudger, type DeletingCrd } from '../../src/kube/crd-deletion.ts';
import { realClock } from '../../src/clock.ts';

export const chartsDir = process.env.NSM_CHARTS_DIR ?? path.join(repoRoot, 'test/fixtures/charts/nginx-service-mesh');
export const meshctlBin = (version: string) => path.join(repoRoot, 'test/fixtures/meshctl', version, 'nginx-meshctl');

/** The application namespaces `npm run demo` creates (the tests remove them: their pods carry sidecars). */
export const demoNamespaces = ['demo-shop', 'demo-payments', 'demo-ledger'];

/** The six user kinds the documented backup lists (storage versions). */
export const userKinds: (ResourceRef & { kind: string; apiVersion: string })[] = [
  {
    kind: 'TrafficSplit',
    group: 'split.smi-spec.io',
    version: 'v1alpha3',
    plural: 'trafficsplits',
    namespaced: true,
    apiVersion: 'split.smi-spec.io/v1alpha3',
  },
  {
    kind: 'TrafficTarget',
    group: 'access.smi-spec.io',
    version: 'v1alpha2',
    plural: 'traffictargets',
    namespaced: true,
    apiVersion: 'access.smi-spec.io/v1alpha2',
  },
  {
    kind: 'HTTPRouteGroup',
    group: 'specs.smi-spec.io',
    version: 'v1alpha3',
    plural: 'httproutegroups',
    namespaced: true,
    apiVersion: 'specs.smi-spec.io/v1alpha3',
  },
  {
    kind: 'TCPRoute',
    group: 'specs.smi-spec.io',
    version: 'v1alpha3',
    plural: 'tcproutes',
    namespaced: true,
    apiVersion: 'specs.smi-spec.io/v1alpha3',
  },
  {
    kind: 'RateLimit',
    group: 'specs.smi.nginx.com',
    version: 'v1alpha2',
    plural: 'ratelimits',
    namespaced: true,
    apiVersion: 'specs.smi.nginx.com/v1alpha2',
  },
  {
    kind: 'CircuitBreaker',
    group: 'specs.smi.nginx.com',
    version: 'v1alpha1',
    plural: 'circuitbreakers',
    namespaced: true,
    apiVersion: 'specs.smi.nginx.com/v1alpha1',
  },
];

export async function run(
  bin: string,
  args: string[],
  input?: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const env = { ...clusterEnv(), NSM_CHARTS_DIR: chartsDir };
  const r = await execa(bin, args, { reject: false, env, input: input ?? '' });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function must(bin: string, args: string[]): Promise<string> {
  const r = await run(bin, args);
  if (r.exitCode !== 0)
    throw new Error(`${path.basename(bin)} ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/** `kubeconfig`: another cluster's (the fleet tests' second cluster); default the test cluster's. */
export async function deployWithMeshctl(
  version: string,
  opts: {
    namespace: string;
    environment?: 'kubernetes' | 'openshift';
    flags?: string[];
    bin?: string;
    kubeconfig?: string;
  },
): Promise<void> {
  await must(opts.bin ?? meshctlBin(version), [
    '-k',
    opts.kubeconfig ?? kubeconfigPath(),
    '-n',
    opts.namespace,
    'deploy',
    '--environment',
    opts.environment ?? 'kubernetes',
    ...(opts.flags ?? []),
  ]);
}

export async function deployWithHelm(
  helm: string,
  version: string,
  opts: { release: string; namespace: string; set?: Record<string, string> },
): Promise<void> {
  const sets = Object.entries(opts.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  await must(helm, [
    '--kubeconfig',
    kubeconfigPath(),
    'install',
    opts.release,
    path.join(chartsDir, version),
    '-n',
    opts.namespace,
    '--create-namespace',
    ...sets,
    '--wait',
    '--timeout',
    '5m',
  ]);
}

/** Removes whatever mesh is in `namespace` (any release), its CRDs, webhooks and namespace. */
export async function removeMesh(kube: Kube, namespace: string, kubeconfig = kubeconfigPath()): Promise<void> {
  const env = clusterEnv();
  const helm = env.HELM3 ?? 'helm';
  const list = await run(helm, ['--kubeconfig', kubeconfig, 'list', '-n', namespace, '-q']);
  for (const rel of list.stdout.split('\n').filter(Boolean))
    await run(helm, ['--kubeconfig', kubeconfig, 'uninstall', rel, '-n', namespace, '--no-hooks']);
  for (const c of await listAll(kube, collectionPath(core.crds), {
    labelSelector: meshCrdSelector,
  })) {
    await kube.request({ method: 'DELETE', path: objectPath(core.crds, c.metadata!.name!) }).catch(() => undefined);
  }
  await sweepClusterScoped(kube, namespace);
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, namespace) }).catch(() => undefined);
}

/** Cluster-scoped mesh pieces, including those the charts mark helm.sh/resource-policy: keep (OpenShift SCC roles). */
async function sweepClusterScoped(kube: Kube, namespace?: string): Promise<void> {
  const clusterScoped: ResourceRef[] = [
    {
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      plural: 'mutatingwebhookconfigurations',
      namespaced: false,
    },
    {
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      plural: 'validatingwebhookconfigurations',
      namespaced: false,
    },
    { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
    { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false },
    { group: 'storage.k8s.io', version: 'v1', plural: 'csidrivers', namespaced: false },
    { group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false },
    { group: 'security.openshift.io', version: 'v1', plural: 'securitycontextconstraints', namespaced: false },
  ];
  for (const ref of clusterScoped) {
    for (const o of await listAll(kube, collectionPath(ref)).catch(() => [] as KubeObject[])) {
      const mine =
        o.metadata?.labels?.['app.kubernetes.io/part-of'] === 'nginx-service-mesh' ||
        /nsm\.nginx$/.test(o.metadata?.name ?? '') ||
        (namespace !== undefined && o.metadata?.annotations?.['meta.helm.sh/release-namespace'] === namespace);
      if (mine)
        await kube.request({ method: 'DELETE', path: objectPath(ref, o.metadata!.name!) }).catch(() => undefined);
    }
  }
}

/**
 * Deletes every namespace that still holds injected pods, and those pods at once (grace period 0), then waits
 * until no injected pod is left in them: what an earlier test (or the demo) left, perhaps still terminating.
 * One mesh per cluster: the tool restarts and verifies injected workloads in every namespace, so a scenario
 * starts with none but its own (a CI run once failed a rollback test on four workloads of the test before,
 * their namespaces still terminating). It waits for the pods, not the namespaces: the namespace controller
 * retries a failed deletion with a growing backoff (minutes, seen in CI), while a terminating namespace
 * accepts no new pod, so its workloads cannot come back.
 */
export async function removeInjectedNamespaces(kube: Kube): Promise<string[]> {
  const injected = async () =>
    (await listAll(kube, collectionPath(core.pods), { labelSelector: injectedPodSelector })).filter(
      (p) => !p.metadata!.namespace!.startsWith('kube-'),
    );
  const namespaces = [...new Set((await injected()).map((p) => p.metadata!.namespace!))];
  const ignoreMissing = (err: unknown) => {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
  };
  for (const ns of namespaces) {
    await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, ns) }).catch(ignoreMissing);
    await kube
      .request({
        method: 'DELETE',
        path: collectionPath(core.pods, ns),
        query: { labelSelector: injectedPodSelector, gracePeriodSeconds: '0' },
      })
      .catch(ignoreMissing);
  }
  await waitFor(
    `the injected pods an earlier test left in ${namespaces.join(', ')} to be gone`,
    async () => !(await injected()).some((p) => namespaces.includes(p.metadata!.namespace!)),
    { timeoutMs: 120_000 },
  );
  return namespaces;
}

/**
 * The check of one wait for the mesh CRDs to go: lists them, touches each whose deletion the API server
 * stalled on so it retries, as the tool does (src/kube/crd-deletion.ts), and returns those left.
 */
export function meshCrdsLeft(kube: Kube): () => Promise<DeletingCrd[]> {
  const nudge = crdDeletionNudger({ kube, clock: realClock });
  return async () => {
    const left = await listAll<DeletingCrd>(kube, collectionPath(core.crds), { labelSelector: meshCrdSelector });
    await nudge(left);
    return left;
  };
}

/**
 * NSM is one per cluster (cluster-scoped CRDs, webhooks and RBAC), so a scenario first removes any
 * mesh an earlier test run or the demo left behind. The test cluster must be a throwaway one.
 */
export async function removeAllMeshes(kube: Kube, kubeconfig = kubeconfigPath()): Promise<string[]> {
  const secrets = await listAll(kube, collectionPath(core.secrets), { labelSelector: 'owner=helm' });
  const namespaces = new Set<string>();
  for (const s of secrets) {
    try {
      if (decodeReleaseSecret(s).chart.name === meshChartName) namespaces.add(s.metadata!.namespace!);
    } catch {
      /* not a release we can read */
    }
  }
  for (const ns of namespaces) await removeMesh(kube, ns, kubeconfig);
  await sweepClusterScoped(kube);
  // Deploy (the real 1.7.0, and the 1.6.0 stand-in that follows it) refuses while any mesh CRD is left,
  // and the Helm path leaves its CRDs behind: delete them all and wait until they are gone.
  for (const c of await listAll(kube, collectionPath(core.crds), {
    labelSelector: meshCrdSelector,
  })) {
    await kube.request({ method: 'DELETE', path: objectPath(core.crds, c.metadata!.name!) }).catch(() => undefined);
  }
  // Loud when they stay, and before a test's own timeout (180 s): a deploy would otherwise fail later on "CRDs
  // detected", or the test time out without naming the wait.
  const left = meshCrdsLeft(kube);
  await waitFor('the mesh CRDs to be deleted', async () => !(await left()).length, { timeoutMs: 150_000 });
  for (const ns of namespaces)
    await settled(
      () =>
        kube.request({ path: objectPath(core.namespaces, ns) }).then(
          () => false,
          () => true,
        ),
      { timeoutMs: 120_000 },
    );
  // Last: a namespace's deletion waits on every API the cluster serves, so an APIService the sweep removed
  // (the mesh's, its service gone) would have held it.
  await removeInjectedNamespaces(kube);
  return [...namespaces];
}

async function create(kube: Kube, ref: ResourceRef, ns: string | undefined, body: KubeObject): Promise<void> {
  try {
    await kube.request({ method: 'POST', path: collectionPath(ref, ns), body });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
  }
}

/** One injected app per namespace plus one object of every user kind, with labels and annotations. */
export async function populate(
  kube: Kube,
  namespaces: string[],
  opts: { optIn?: boolean; replicas?: number } = {},
): Promise<void> {
  for (const ns of namespaces) {
    await create(kube, core.namespaces, undefined, {
      metadata: { name: ns, labels: opts.optIn ? { 'injector.nsm.nginx.com/auto-inject': 'enabled' } : {} },
    });
    for (const app of ['frontend', 'backend']) {
      await create(kube, core.deployments, ns, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, labels: { app } },
        spec: {
          replicas: opts.replicas ?? 1,
          selector: { matchLabels: { app } },
          template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: `example/${app}:1` }] } },
        },
      });
    }
    const meta = (name: string) => ({
      name,
      namespace: ns,
      labels: { team: ns },
      annotations: { 'example.com/owner': 'platform' },
    });
    const bodies: Record<string, Record<string, unknown>> = {
      TrafficSplit: {
        spec: {
          service: 'backend',
          backends: [
            { service: 'backend-v1', weight: 80 },
            { service: 'backend-v2', weight: 20 },
          ],
          matches: [{ kind: 'HTTPRouteGroup', name: 'routes' }],
        },
      },
      TrafficTarget: {
        spec: {
          destination: { kind: 'ServiceAccount', name: 'backend', namespace: ns },
          sources: [{ kind: 'ServiceAccount', name: 'frontend', namespace: ns }],
          rules: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['api'] }],
        },
      },
      HTTPRouteGroup: {
        spec: {
          matches: [{ name: 'api', pathRegex: '/api/.*', methods: ['GET', 'POST'], headers: { 'x-canary': 'true' } }],
        },
      },
      // NSM's TCPRoute CRD declares spec without properties: the real API server keeps nothing in it (the schema check would refuse spec.matches as lost).
      TCPRoute: { spec: {} },
      RateLimit: {
        spec: {
          destination: { kind: 'Service', name: 'backend', namespace: ns },
          sources: [{ kind: 'Deployment', name: 'frontend', namespace: ns }],
          name: 'ten-per-second',
          rate: '10r/s',
          burst: 5,
          delay: 'nodelay',
        },
      },
      CircuitBreaker: {
        spec: {
          destination: { kind: 'Service', name: 'backend', namespace: ns },
          errors: 3,
          timeoutSeconds: 30,
          fallback: { service: 'backend-fallback', port: 8080 },
        },
      },
    };
    for (const k of userKinds)
      await create(kube, k, ns, {
        apiVersion: k.apiVersion,
        kind: k.kind,
        metadata: meta(k.kind === 'HTTPRouteGroup' ? 'routes' : `${k.kind.toLowerCase()}-1`),
        ...bodies[k.kind],
      });
  }
}

export type Snapshot = Record<string, { spec: unknown; labels: unknown; annotations: unknown }>;

/** Every user-kind object in the given namespaces, keyed by kind/namespace/name. */
export async function snapshot(kube: Kube, namespaces: string[]): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const k of userKinds) {
    for (const ns of namespaces) {
      let items: KubeObject[] = [];
      try {
        items = await listAll(kube, collectionPath(k, ns));
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      }
      for (const o of items) {
        const a = { ...(o.metadata?.annotations ?? {}) };
        delete a['kubectl.kubernetes.io/last-applied-configuration'];
        out[`${k.kind}/${ns}/${o.metadata?.name}`] = { spec: o.spec, labels: o.metadata?.labels ?? {}, annotations: a };
      }
    }
  }
  return out;
}

/** Sidecar version -> live injected pods, in the given namespaces. */
export async function sidecarVersions(kube: Kube, namespaces: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ns of namespaces) {
    const pods = await listAll<
      KubeObject & { spec?: { containers?: { name: string; image?: string }[] }; status?: { phase?: string } }
    >(kube, collectionPath(core.pods, ns));
    for (const p of pods) {
      if ((p.metadata as { deletionTimestamp?: string }).deletionTimestamp || p.status?.phase === 'Succeeded') continue;
      const sc = p.spec?.containers?.find((c) => c.name === 'nginx-mesh-sidecar');
      const v = sc?.image ? sc.image.slice(sc.image.lastIndexOf(':') + 1) : 'none';
      out[v] = (out[v] ?? 0) + 1;
    }
  }
  return out;
}

/** Waits until the apps `populate` made are rolled out (kubectl rollout status). */
export async function waitRolledOut(namespaces: string[], kubeconfig = kubeconfigPath()): Promise<void> {
  const kubectl = clusterEnv().KUBECTL ?? 'kubectl';
  for (const ns of namespaces) {
    for (const app of ['frontend', 'backend'])
      await must(kubectl, [
        '--kubeconfig',
        kubeconfig,
        'rollout',
        'status',
        `deployment/${app}`,
        '-n',
        ns,
        '--timeout=120s',
      ]);
  }
}
