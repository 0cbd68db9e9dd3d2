/**
 * Leftovers of earlier removals (issue 17) on the real API server: a cluster with each kind
 * (a mesh webhook whose service is gone, failurePolicy Fail; a mesh CRD without the part-of label;
 * a mesh APIService whose service is gone; a SPIRE volume no spire-server claims; a
 * csi-driver-sentinel Job of an earlier removal; a stuck terminating namespace that still holds a
 * release of the mesh chart, held by a SpiffeID's registrar finalizer). `plan` lists each, the
 * upgrade refuses (exit 3, nothing changed), `--clean-leftovers` clears them after the backup and
 * the manual upgrade then converges. Beside them, what is NOT provably the mesh's (issue 23): the
 * unlabelled CRD, an unlabelled APIService of a mesh group, a namespace held by a cloud load
 * balancer's finalizer, a csi-driver-sentinel Job of someone else: `--clean-leftovers` refuses
 * (exit 3, nothing changed) until the user deals with them, and never touches them. The check
 * before a deploy, and the step's match against the approved plan, are run directly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReleaseSecret } from '../../src/mesh/release.ts';
import { KubeApiError, type Kube } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { cleanLeftoversNow, leftoversBeforeDeploy } from '../../src/engine/phases/leftovers.ts';
import { scanLeftovers } from '../../src/leftovers/scan.ts';
import { StepError } from '../../src/errors.ts';
import type { Plan } from '../../src/engine/types.ts';
import { kubectl, repoRoot, runTool, testDeps, testKube, uniqueName } from '../support/cluster.ts';
import {
  expectConverged,
  expectSettingsKept,
  nonDefaultFlags,
  runUpgrade,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import type { SettingRow } from '../../src/engine/types.ts';
import { release } from './detect-plant.ts';
import { waitFor } from '../support/wait.ts';
import { crdDeletionNudger, type DeletingCrd } from '../../src/kube/crd-deletion.ts';
import { realClock } from '../../src/clock.ts';

const part = { 'app.kubernetes.io/part-of': 'nginx-service-mesh' };
const unlabelledCrd = 'circuitbreakers.specs.smi.nginx.com';
const spiffeids = { group: 'spiffeid.spiffe.io', version: 'v1beta1', plural: 'spiffeids', namespaced: true };
const services = { group: '', version: 'v1', plural: 'services', namespaced: true };
const apiServices = { group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false };
const registrarFinalizer = 'finalizers.spiffeid.spiffe.io';
/** The waits of this file that are not given their own deadline. */
const minute = { timeoutMs: 60_000 };
const lbFinalizer = 'service.kubernetes.io/load-balancer-cleanup';

/** The names of one set of leftovers (each test plants its own). */
function leftoverNames(apiVersion: string) {
  const webhook = uniqueName('lo-injector').slice(0, 40) + '.nsm.nginx';
  const apiService = `${apiVersion}.metrics.smi-spec.io`;
  const goneNs = uniqueName('lo-gone');
  const oldMesh = uniqueName('lo-oldmesh');
  const sentinelNs = uniqueName('lo-sentinel');
  return {
    webhook,
    apiService,
    goneNs,
    oldMesh,
    sentinelNs,
    paths: {
      webhook: objectPath(
        {
          group: 'admissionregistration.k8s.io',
          version: 'v1',
          plural: 'mutatingwebhookconfigurations',
          namespaced: false,
        },
        webhook,
      ),
      apiService: objectPath(
        { group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false },
        apiService,
      ),
      sentinel: objectPath(core.jobs, 'csi-driver-sentinel', sentinelNs),
      oldMesh: objectPath(core.namespaces, oldMesh),
      pvc: (ns: string) =>
        objectPath(
          { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
          'spire-data-spire-server-0',
          ns,
        ),
    },
  };
}
type Names = ReturnType<typeof leftoverNames>;
const cleanups: (() => Promise<unknown>)[] = [];

const ignore404 = (err: unknown) => {
  if (!(err instanceof KubeApiError && err.status === 404)) throw err;
};
async function exists(kube: Kube, p: string): Promise<boolean> {
  try {
    await kube.request({ path: p });
    return true;
  } catch (err) {
    ignore404(err);
    return false;
  }
}
/** Creates a namespace (it may exist from the test before). */
async function namespace(kube: Kube, name: string): Promise<void> {
  await kube
    .request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name } } })
    .catch((err: unknown) => {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    });
}

/** What an earlier removal or failed run leaves, one of each kind (the mesh itself lives in `meshNs`). */
async function plantLeftovers(
  kube: Kube,
  meshNs: string,
  n: Names,
  opts: { unlabelCrd: boolean; userFinalizer?: string },
): Promise<void> {
  const { webhook: webhookName, apiService: apiServiceName, goneNs, oldMesh, sentinelNs, paths } = n;
  // On OpenShift a removal keeps its namespace while the sentinel runs: an old one still running.
  await namespace(kube, sentinelNs);
  cleanups.push(() =>
    kubectl(['delete', 'namespace', sentinelNs, '--wait=false', '--ignore-not-found'], { reject: false }),
  );
  await kube.request({
    method: 'POST',
    path: collectionPath(core.jobs, sentinelNs),
    body: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'csi-driver-sentinel', labels: part },
      spec: {
        ttlSecondsAfterFinished: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'sentinel', image: 'example/kubectl:1' }] } },
      },
    },
  });
  // A SPIRE volume helm uninstall left: the fixture charts' spire-server claims none.
  await kube.request({
    method: 'POST',
    path: collectionPath({ group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true }, meshNs),
    body: {
      // Labelled as the StatefulSet controller labels its claims (the spire-server selector: name and part-of).
      metadata: { name: 'spire-data-spire-server-0', labels: { 'app.kubernetes.io/name': 'spire-server', ...part } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
    },
  });
  // An old mesh's namespace, stuck terminating: its node SpiffeID keeps the registrar's finalizer (the registrar went
  // with that mesh, and its remove-spiffeids hook did not run), and its release record is still inside.
  await namespace(kube, oldMesh);
  cleanups.push(async () => {
    await kube
      .request({
        method: 'PATCH',
        path: objectPath(spiffeids, 'node-1', oldMesh),
        body: { metadata: { finalizers: null } },
      })
      .catch(() => undefined);
    await kubectl(['delete', 'namespace', oldMesh, '--wait=false', '--ignore-not-found'], { reject: false });
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(spiffeids, oldMesh),
    body: {
      apiVersion: 'spiffeid.spiffe.io/v1beta1',
      kind: 'SpiffeID',
      metadata: { name: 'node-1', labels: { nodeUid: 'n1' }, finalizers: [registrarFinalizer] },
      spec: {},
    },
  });
  if (opts.userFinalizer) {
    // A user's object in it too, with a finalizer of another controller.
    cleanups.push(() =>
      kube
        .request({
          method: 'PATCH',
          path: objectPath(core.configmaps, 'user-data', oldMesh),
          body: { metadata: { finalizers: null } },
        })
        .catch(() => undefined),
    );
    await kube.request({
      method: 'POST',
      path: collectionPath(core.configmaps, oldMesh),
      body: { metadata: { name: 'user-data', finalizers: [opts.userFinalizer] } },
    });
  }
  await kube.request({
    method: 'POST',
    path: collectionPath(core.secrets, oldMesh),
    body: encodeReleaseSecret(release(oldMesh, { status: 'uninstalling' })),
  });
  // The old mesh's metrics APIService, its service gone: discovery of its group fails, so no namespace deletion finishes.
  cleanups.push(() => kube.request({ method: 'DELETE', path: paths.apiService }).catch(ignore404));
  await kube.request({
    method: 'POST',
    path: collectionPath({ group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false }),
    body: {
      metadata: { name: apiServiceName, labels: part },
      spec: {
        group: 'metrics.smi-spec.io',
        version: apiServiceName.split('.')[0],
        service: { namespace: goneNs, name: 'nginx-mesh-metrics' },
        groupPriorityMinimum: 100,
        versionPriority: 100,
        insecureSkipTLSVerify: true,
      },
    },
  });
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, oldMesh) });
  await waitFor(
    `namespace ${oldMesh} to be stuck`,
    async () => {
      const ns = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>({
        path: paths.oldMesh,
      });
      return ['NamespaceDeletionDiscoveryFailure', 'NamespaceFinalizersRemaining'].every((t) =>
        ns.status?.conditions?.some((c) => c.type === t && c.status === 'True'),
      );
    },
    minute,
  );
  if (opts.unlabelCrd) {
    cleanups.push(() =>
      kube
        .request({ method: 'PATCH', path: objectPath(core.crds, unlabelledCrd), body: { metadata: { labels: part } } })
        .catch(ignore404),
    );
    // A mesh CRD without its part-of label (installed by hand, or by another SMI user).
    await kube.request({
      method: 'PATCH',
      path: objectPath(core.crds, unlabelledCrd),
      contentType: 'application/json-patch+json',
      body: [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1part-of' }],
    });
  }
  // Last (it refuses every pod create in the cluster): the old injector, failurePolicy Fail, its service gone.
  cleanups.push(() => kube.request({ method: 'DELETE', path: paths.webhook }).catch(ignore404));
  await kube.request({
    method: 'POST',
    path: collectionPath({
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      plural: 'mutatingwebhookconfigurations',
      namespaced: false,
    }),
    body: {
      metadata: { name: webhookName, labels: part },
      webhooks: [
        {
          name: 'injector.nsm.nginx.com',
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          clientConfig: { service: { namespace: goneNs, name: 'nginx-mesh-api', path: '/inject' } },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        },
      ],
    },
  });
}

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** What is in the way but not provably the mesh's (issue 23): never cleared by the tool. Returns how the user deals with each. */
async function plantForeign(
  kube: Kube,
  n: Names,
): Promise<{ foreignApi: string; userNs: string; otherSentinelNs: string; settle: () => Promise<void> }> {
  // Someone else's Job of the sentinel's name, in a namespace of their own: not the mesh's, in nobody's way.
  const otherSentinelNs = uniqueName('lo-batch');
  await namespace(kube, otherSentinelNs);
  cleanups.push(() =>
    kubectl(['delete', 'namespace', otherSentinelNs, '--wait=false', '--ignore-not-found'], { reject: false }),
  );
  await kube.request({
    method: 'POST',
    path: collectionPath(core.jobs, otherSentinelNs),
    body: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'csi-driver-sentinel' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'example/batch:1' }] } } },
    },
  });
  // An APIService of a mesh group (metrics.smi-spec.io is SMI's) without the mesh's label, its service gone.
  const foreignApi = 'v1alpha9.metrics.smi-spec.io';
  cleanups.push(() => kube.request({ method: 'DELETE', path: objectPath(apiServices, foreignApi) }).catch(ignore404));
  await kube.request({
    method: 'POST',
    path: collectionPath(apiServices),
    body: {
      metadata: { name: foreignApi },
      spec: {
        group: 'metrics.smi-spec.io',
        version: 'v1alpha9',
        service: { namespace: n.goneNs, name: 'other-metrics' },
        groupPriorityMinimum: 100,
        versionPriority: 90,
        insecureSkipTLSVerify: true,
      },
    },
  });
  // Another old mesh's namespace, stuck on its SpiffeID and on a user's LoadBalancer Service: the cloud controller's finalizer.
  const userNs = uniqueName('lo-userlb');
  await namespace(kube, userNs);
  const lb = objectPath(services, 'public-lb', userNs);
  cleanups.push(async () => {
    await kube.request({ method: 'PATCH', path: lb, body: { metadata: { finalizers: null } } }).catch(() => undefined);
    await kubectl(['delete', 'namespace', userNs, '--wait=false', '--ignore-not-found'], { reject: false });
  });
  cleanups.push(() =>
    kube
      .request({
        method: 'PATCH',
        path: objectPath(spiffeids, 'node-2', userNs),
        body: { metadata: { finalizers: null } },
      })
      .catch(() => undefined),
  );
  await kube.request({
    method: 'POST',
    path: collectionPath(spiffeids, userNs),
    body: {
      apiVersion: 'spiffeid.spiffe.io/v1beta1',
      kind: 'SpiffeID',
      metadata: { name: 'node-2', finalizers: [registrarFinalizer] },
      spec: {},
    },
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(services, userNs),
    body: {
      metadata: { name: 'public-lb', finalizers: [lbFinalizer] },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    },
  });
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, userNs) });
  await waitFor(
    `namespace ${userNs} to be stuck`,
    async () => {
      const ns = await kube.request<{ status?: { conditions?: { type: string; status: string; message?: string }[] } }>(
        {
          path: objectPath(core.namespaces, userNs),
        },
      );
      return (
        ns.status?.conditions?.some(
          (c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True' && c.message?.includes(lbFinalizer),
        ) ?? false
      );
    },
    minute,
  );
  return {
    foreignApi,
    userNs,
    otherSentinelNs,
    // What the user does: delete the other product's dead APIService, hand the CRD over to the mesh (the command the
    // tool names), and let the cloud controller finish (here: remove its finalizer, as it would once the load balancer is gone).
    settle: async () => {
      await kube.request({ method: 'DELETE', path: objectPath(apiServices, foreignApi) });
      await kubectl(['label', 'crd', unlabelledCrd, 'app.kubernetes.io/part-of=nginx-service-mesh']);
      await kube.request({ method: 'PATCH', path: lb, body: { metadata: { finalizers: null } } });
    },
  };
}

/** The fixture chart's SpiffeID CRD, for a test without a mesh (one a scenario's cleanup is deleting is waited for first). */
async function spiffeidCrd(kube: Kube): Promise<void> {
  const p = objectPath(core.crds, 'spiffeids.spiffeid.spiffe.io');
  // A deletion the API server stalls on is touched so it retries, as the tool does (kube/crd-deletion.ts).
  const nudge = crdDeletionNudger({ kube, clock: realClock });
  await waitFor(
    'a SpiffeID CRD being deleted to go',
    async () => {
      try {
        const crd = await kube.request<DeletingCrd>({ path: p });
        await nudge([crd]);
        return !crd.metadata?.deletionTimestamp;
      } catch (err) {
        ignore404(err);
        return true;
      }
    },
    {
      timeoutMs: 120_000,
      // A CI run once timed out here: say what holds the deletion (its conditions, the SpiffeIDs left and their finalizers).
      why: async () => {
        type Held = {
          metadata: { namespace?: string; name?: string; finalizers?: string[]; deletionTimestamp?: string };
        };
        const crd = await kube.request<{
          status?: { conditions?: { type: string; status: string; message?: string }[] };
        }>({ path: p });
        const left = await kube.request<{ items: Held[] }>({ path: '/apis/spiffeid.spiffe.io/v1beta1/spiffeids' });
        const conditions = (crd.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.message ?? ''}`.trim());
        const objects = left.items.map(
          (o) =>
            `${o.metadata.namespace}/${o.metadata.name} finalizers [${(o.metadata.finalizers ?? []).join(', ')}]${o.metadata.deletionTimestamp ? ` deleting since ${o.metadata.deletionTimestamp}` : ''}`,
        );
        return `conditions: ${conditions.join('; ') || 'none'}; SpiffeIDs left: ${objects.join('; ') || 'none'}`;
      },
    },
  );
  if (!(await exists(kube, p))) {
    await kubectl([
      'apply',
      '-f',
      path.join(repoRoot, 'test/fixtures/charts/nginx-service-mesh/1.6.0/crds/spiffeid.yaml'),
    ]);
    cleanups.push(() => kube.request({ method: 'DELETE', path: p }).catch(ignore404));
  }
  await waitFor(
    'the SpiffeID CRD to be served',
    async () => {
      const crd = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>({ path: p });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    },
    minute,
  );
}

const leftoverWhats = (
  { webhook: webhookName, apiService: apiServiceName, sentinelNs, oldMesh }: Names,
  meshNs: string,
) => [
  `MutatingWebhookConfiguration ${webhookName}`,
  `APIService ${apiServiceName}`,
  `Job ${sentinelNs}/csi-driver-sentinel`,
  `PersistentVolumeClaim ${meshNs}/spire-data-spire-server-0`,
  `CRD ${unlabelledCrd} without label`,
  `namespace ${oldMesh} (Terminating, stuck)`,
];

describe('leftovers of earlier removals', () => {
  let s: Scenario | undefined;
  afterAll(async () => {
    await s?.cleanup();
  });

  it("plan lists each; the upgrade refuses until --clean-leftovers, which refuses what is not the mesh's and clears only what is, after the backup; the upgrade then converges", async (ctx) => {
    ctx.skip(
      Boolean(process.env.NSM_CHARTS_DIR),
      'NSM_CHARTS_DIR installs the real charts, whose spire-server claims the planted SPIRE volume: the scenario needs the fixture charts',
    );
    // Non-default settings too: the plan, the backup and the summary show each one's fate (issue 17, part 2).
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      deployFlags: nonDefaultFlags,
    };
    s = await setUpMesh(o);
    const kube = await testKube();
    const n = leftoverNames('v1beta1');
    const { webhook: webhookName, apiService: apiServiceName, sentinelNs, oldMesh, paths } = n;
    await plantLeftovers(kube, s.meshNamespace, n, { unlabelCrd: true });
    const foreign = await plantForeign(kube, n);
    // The webhook really blocks pod creation (what it breaks).
    const probe = await kubectl(
      ['run', uniqueName('probe'), '-n', s.appNamespaces[0]!, '--image', 'example/x:1', '--restart', 'Never'],
      { reject: false },
    );
    expect(probe.stderr).toMatch(/failed calling webhook/);

    const plan = await runTool(['plan', ...toolArgs(s, o, ['--strategy', 'manual']).filter((a) => a !== '--yes')]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Leftovers of earlier removals (8): the upgrade refuses to start (exit 3)');
    for (const what of leftoverWhats(n, s.meshNamespace)) expect(plan.stdout).toContain(what);
    expect(plan.stdout).toContain(`APIService ${foreign.foreignApi}`);
    expect(plan.stdout).toContain(`namespace ${foreign.userNs} (Terminating, stuck)`);
    expect(plan.stdout).not.toContain(`Job ${foreign.otherSentinelNs}/`);
    expect(plan.stdout).toMatch(
      new RegExp(`CRD ${unlabelledCrd.replace(/\./g, '\\.')} without label[^\n]*\n[^\n]*\n\\s+NOT cleared by the tool`),
    );
    expect(plan.stdout).toContain('Settings (before -> after 1.7.0):');
    expect(plan.stdout).toMatch(
      /\n\s+mtls\.mode\s+strict -> strict\s+carried: passed to nginx-meshctl deploy as --mtls-mode\n/,
    );
    expect(plan.stdout).toMatch(/carried at their defaults: .*accessControlMode/);
    const json = await runTool([
      'plan',
      '-o',
      'json',
      ...toolArgs(s, o, ['--strategy', 'manual']).filter((a) => a !== '--yes'),
    ]);
    const planned = JSON.parse(json.stdout) as Plan;
    expect(planned.leftovers!.map((l) => l.kind).sort()).toEqual([
      'apiservice',
      'apiservice',
      'crd-unlabelled',
      'sentinel-job',
      'spire-pvc',
      'terminating-namespace',
      'terminating-namespace',
      'webhook',
    ]);
    expect(
      planned
        .leftovers!.filter((l) => l.foreign)
        .map((l) => l.name)
        .sort(),
    ).toEqual([unlabelledCrd, foreign.userNs, foreign.foreignApi].sort());
    const rows = planned.hops[0]!.settings!;
    for (const [p, v] of [
      ['mtls.mode', 'strict'],
      ['clientMaxBodySize', '8m'],
      ['nginxErrorLogLevel', 'debug'],
    ] as const) {
      expect(
        rows.find((x) => x.path === p),
        p,
      ).toMatchObject({ before: v, after: v, fate: 'carried' });
    }
    const everyLeftover = [
      paths.webhook,
      paths.apiService,
      paths.sentinel,
      paths.oldMesh,
      paths.pvc(s.meshNamespace),
      objectPath(apiServices, foreign.foreignApi),
      objectPath(core.namespaces, foreign.userNs),
    ];
    const nothingChanged = async () => {
      expect((await detectInstall({ kube } as never, { meshNamespace: s!.meshNamespace })).version).toBe('1.6.0');
      for (const p of everyLeftover) expect(await exists(kube, p), p).toBe(true);
      expect(
        (
          await kube.request<{ metadata: { labels?: Record<string, string> } }>({
            path: objectPath(core.crds, unlabelledCrd),
          })
        ).metadata.labels?.['app.kubernetes.io/part-of'],
      ).toBeUndefined();
      expect(fs.existsSync(path.join(s!.backupDir, 'journal.ndjson'))).toBe(false);
    };

    const refused = await runUpgrade(s, o, ['--strategy', 'manual']);
    expect(refused.exitCode, refused.stderr).toBe(3);
    for (const what of leftoverWhats(n, s.meshNamespace)) expect(refused.stderr).toContain(what);
    expect(refused.stderr).toContain('--clean-leftovers');
    expect(refused.stderr).toContain(`kubectl delete apiservice ${apiServiceName}`);
    await nothingChanged();

    // --clean-leftovers: what is not provably the mesh's still refuses the run, each named with why, and nothing is cleared.
    const notMine = await runUpgrade(s, o, ['--strategy', 'manual', '--clean-leftovers']);
    expect(notMine.exitCode, notMine.stderr).toBe(3);
    expect(notMine.stderr).toMatch(
      new RegExp(
        `CRD ${unlabelledCrd.replace(/\./g, '\\.')} without label.*the tool will not clear it: every CRD the mesh installs carries that label.*never adopts it`,
      ),
    );
    expect(notMine.stderr).toMatch(
      new RegExp(`APIService ${foreign.foreignApi.replace(/\./g, '\\.')}.*not provably the mesh's`),
    );
    expect(notMine.stderr).toMatch(
      new RegExp(
        `namespace ${foreign.userNs} \\(Terminating, stuck\\).*services/public-lb \\(${lbFinalizer.replace(/\./g, '\\.')} \\(set by the cloud provider's service controller \\(cloud-controller-manager\\)`,
      ),
    );
    // What is the mesh's is not refused with --clean-leftovers: the step would clear it.
    expect(notMine.stderr).not.toContain(`MutatingWebhookConfiguration ${webhookName}`);
    await nothingChanged();
    expect(await exists(kube, objectPath(core.jobs, 'csi-driver-sentinel', foreign.otherSentinelNs))).toBe(true);

    await foreign.settle();
    const r = await runUpgrade(s, o, ['--strategy', 'manual', '--clean-leftovers']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const journal = fs
      .readFileSync(path.join(s.backupDir, 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step?: string; data?: { cleared?: string[] } });
    expect(journal.filter((j) => j.type === 'step').map((j) => j.step)).toEqual([
      'hop1.backup',
      'hop1.clean-leftovers',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ]);
    const cleared = journal.find((j) => j.type === 'step' && j.step === 'hop1.clean-leftovers')!.data!.cleared!;
    // The registrar's finalizer only, and what is provably the mesh's.
    expect(cleared.filter((c) => !c.includes(foreign.userNs))).toEqual([
      `deleted MutatingWebhookConfiguration ${webhookName}`,
      `deleted APIService ${apiServiceName}`,
      `deleted Job ${sentinelNs}/csi-driver-sentinel (from an earlier removal)`,
      `deleted PersistentVolumeClaim ${s.meshNamespace}/spire-data-spire-server-0`,
      `removed finalizer ${registrarFinalizer} of spiffeids.spiffeid.spiffe.io/node-1 in ${oldMesh}`,
      `namespace ${oldMesh} is gone`,
    ]);
    expect(cleared.join('\n')).not.toMatch(/labelled CRD/);
    // Once the cloud controller was done, the other namespace held only by the registrar's finalizer: cleared the same way.
    expect(cleared.filter((c) => c.includes(foreign.userNs))).toEqual([
      `removed finalizer ${registrarFinalizer} of spiffeids.spiffeid.spiffe.io/node-2 in ${foreign.userNs}`,
      `namespace ${foreign.userNs} is gone`,
    ]);
    for (const p of [paths.webhook, paths.apiService, paths.sentinel, paths.oldMesh])
      expect(await exists(kube, p), p).toBe(false);
    // Someone else's Job of the sentinel's name is untouched.
    expect(await exists(kube, objectPath(core.jobs, 'csi-driver-sentinel', foreign.otherSentinelNs))).toBe(true);
    await expectConverged(s, '1.7.0');
    await expectSettingsKept(s);
    // Every setting's fate: saved with the backup, shown again in the summary with what verify found on the new mesh.
    const saved = JSON.parse(fs.readFileSync(path.join(s.backupDir, 'hop1', 'settings.json'), 'utf8')) as {
      settings: SettingRow[];
    };
    expect(saved.settings).toEqual(rows);
    expect((fs.statSync(path.join(s.backupDir, 'hop1', 'settings.json')).mode & 0o777).toString(8)).toBe('600');
    expect(r.stdout).toMatch(/Hop 1 settings \(1\.6\.0 -> 1\.7\.0, manual\):/);
    expect(r.stdout).toMatch(/mtls\.mode\s+strict -> strict\s+carried: .*\[on the new mesh\]/);
    // Redeployed by 1.7.0, with its label.
    const crd = await kube.request<{ metadata: { labels?: Record<string, string> } }>({
      path: objectPath(core.crds, unlabelledCrd),
    });
    expect(crd.metadata.labels).toMatchObject(part);
  });
});

describe('the check before a deploy (no mesh installed)', () => {
  const meshNs = uniqueName('lo-removed');
  const plan = (clean: boolean) =>
    ({ hops: [{ steps: clean ? [{ kind: 'clean-leftovers' }] : [] }] }) as unknown as Plan;

  it("refuses what a removal left, naming each with its command; with --clean-leftovers it clears what is the mesh's, never another controller's finalizer", async () => {
    const kube = await testKube();
    const deps = await testDeps();
    await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name: meshNs } } });
    cleanups.push(() =>
      kubectl(['delete', 'namespace', meshNs, '--wait=false', '--ignore-not-found'], { reject: false }),
    );
    await spiffeidCrd(kube);
    // A pod still injected by the removed mesh: the old sentinel keeps waiting (the emulator releases it when none is left).
    await kube.request({
      method: 'POST',
      path: collectionPath(core.pods, meshNs),
      body: {
        metadata: { name: 'still-injected', annotations: { 'injector.nsm.nginx.com/status': 'injected' } },
        spec: { containers: [{ name: 'app', image: 'example/app:1' }] },
      },
    });
    const n = leftoverNames('v1beta2');
    const { webhook: webhookName, apiService: apiServiceName, sentinelNs, oldMesh, paths } = n;
    // The old mesh's namespace also holds a user's object with a finalizer of another controller.
    await plantLeftovers(kube, meshNs, n, { unlabelCrd: false, userFinalizer: 'example.com/backup-first' });
    const userCm = objectPath(core.configmaps, 'user-data', oldMesh);
    const opts = { namespace: meshNs, release: undefined, timeoutMs: 120_000, progress: () => undefined };

    const err = await leftoversBeforeDeploy(deps, { ...opts, plan: plan(false) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    const message = (err as StepError).message;
    for (const what of [
      `MutatingWebhookConfiguration ${webhookName}`,
      `APIService ${apiServiceName}`,
      `Job ${sentinelNs}/csi-driver-sentinel`,
      `namespace ${oldMesh} (Terminating, stuck)`,
    ])
      expect(message).toContain(what);
    expect(message).toContain(`clear it: kubectl delete job csi-driver-sentinel -n ${sentinelNs}`);
    // The SPIRE volume is the removed mesh's own: kept, as an in-place upgrade would.
    expect(message).not.toContain('PersistentVolumeClaim');
    expect(await exists(kube, paths.webhook)).toBe(true);

    // With --clean-leftovers: another controller's finalizer refuses it all; nothing is cleared, the registrar's finalizer stays too.
    const refused = await leftoversBeforeDeploy(deps, { ...opts, plan: plan(true) }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StepError);
    expect((refused as StepError).message).toContain(
      `configmaps/user-data (example.com/backup-first (set by a controller of example.com))`,
    );
    expect(await exists(kube, paths.webhook)).toBe(true);
    expect(
      (await kube.request<{ metadata: { finalizers?: string[] } }>({ path: objectPath(spiffeids, 'node-1', oldMesh) }))
        .metadata.finalizers,
    ).toEqual([registrarFinalizer]);
    expect((await kube.request<{ metadata: { finalizers?: string[] } }>({ path: userCm })).metadata.finalizers).toEqual(
      ['example.com/backup-first'],
    );

    // Its controller is done with it: now the mesh's own finalizer is all that is left to clear.
    await kube.request({ method: 'PATCH', path: userCm, body: { metadata: { finalizers: null } } });
    const cleared = await leftoversBeforeDeploy(deps, { ...opts, plan: plan(true) });
    expect(cleared).toContain(
      `removed finalizer ${registrarFinalizer} of spiffeids.spiffeid.spiffe.io/node-1 in ${oldMesh}`,
    );
    expect(cleared).toContain(`namespace ${oldMesh} is gone`);
    for (const p of [paths.webhook, paths.apiService, paths.oldMesh]) expect(await exists(kube, p), p).toBe(false);
    await waitFor('the sentinel Job to be gone', async () => !(await exists(kube, paths.sentinel)), minute);
    expect(await exists(kube, paths.pvc(meshNs))).toBe(true);
    expect(await leftoversBeforeDeploy(deps, { ...opts, plan: plan(false) })).toEqual([]);
  });
});

describe('step hop1.clean-leftovers clears exactly what the approved plan listed', () => {
  it('refuses (nothing cleared) a leftover found at step time that the plan did not list, or one re-created under a listed name; clears the listed ones', async () => {
    const kube = await testKube();
    const deps = await testDeps();
    const meshNs = uniqueName('lo-step');
    await namespace(kube, meshNs);
    cleanups.push(() =>
      kubectl(['delete', 'namespace', meshNs, '--wait=false', '--ignore-not-found'], { reject: false }),
    );
    const jobs = (ns: string) => collectionPath(core.jobs, ns);
    const sentinelBody = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'csi-driver-sentinel', labels: part },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 's', image: 'example/kubectl:1' }] } } },
    };
    const deadWebhook = (name: string) => ({
      metadata: { name, labels: part },
      webhooks: [
        {
          name: 'injector.nsm.nginx.com',
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          clientConfig: { service: { namespace: uniqueName('gone'), name: 'nginx-mesh-api', path: '/inject' } },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
        },
      ],
    });
    const webhooks = {
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      plural: 'mutatingwebhookconfigurations',
      namespaced: false,
    };
    const [w1, w2] = [uniqueName('lo-w1').slice(0, 40) + '.nsm.nginx', uniqueName('lo-w2').slice(0, 40) + '.nsm.nginx'];
    for (const w of [w1, w2])
      cleanups.push(() => kube.request({ method: 'DELETE', path: objectPath(webhooks, w) }).catch(ignore404));
    await kube.request({ method: 'POST', path: collectionPath(webhooks), body: deadWebhook(w1) });
    await kube.request({ method: 'POST', path: jobs(meshNs), body: sentinelBody });
    const ctx = { namespace: meshNs, phase: 'preflight' as const };
    const approved = (await scanLeftovers(deps, ctx)).filter((l) => l.name === w1 || l.namespace === meshNs);
    expect(approved.map((l) => l.what)).toEqual([
      `MutatingWebhookConfiguration ${w1}`,
      `Job ${meshNs}/csi-driver-sentinel (from an earlier removal)`,
    ]);

    // After the plan: the sentinel is re-created (same name, new uid), and a webhook appears that the plan never listed.
    await kube.request({
      method: 'DELETE',
      path: objectPath(core.jobs, 'csi-driver-sentinel', meshNs),
      query: { propagationPolicy: 'Background' },
    });
    await waitFor(
      'the first sentinel to go',
      async () => !(await exists(kube, objectPath(core.jobs, 'csi-driver-sentinel', meshNs))),
      minute,
    );
    await kube.request({ method: 'POST', path: jobs(meshNs), body: sentinelBody });
    await kube.request({ method: 'POST', path: collectionPath(webhooks), body: deadWebhook(w2) });
    const opts = { namespace: meshNs, timeoutMs: 60_000, progress: () => undefined };
    const err = await cleanLeftoversNow(deps, { ...opts, approved }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    const message = (err as StepError).message;
    expect(message).toContain('nothing was cleared');
    expect(message).toMatch(
      new RegExp(
        `Job ${meshNs}/csi-driver-sentinel \\(from an earlier removal\\) \\(uid [0-9a-f-]+\\): the approved plan did not list it`,
      ),
    );
    expect(message).toContain(`MutatingWebhookConfiguration ${w2}`);
    // Nothing was cleared, not even the listed webhook.
    expect(await exists(kube, objectPath(webhooks, w1))).toBe(true);
    expect(await exists(kube, objectPath(core.jobs, 'csi-driver-sentinel', meshNs))).toBe(true);

    // A plan that lists what is there now (a new run's) is cleared, exactly.
    const now = await scanLeftovers(deps, ctx);
    const r = await cleanLeftoversNow(deps, { ...opts, approved: now });
    expect(r.data?.cleared).toEqual(
      expect.arrayContaining([
        `deleted MutatingWebhookConfiguration ${w1}`,
        `deleted MutatingWebhookConfiguration ${w2}`,
        `deleted Job ${meshNs}/csi-driver-sentinel (from an earlier removal)`,
      ]),
    );
  });
});
