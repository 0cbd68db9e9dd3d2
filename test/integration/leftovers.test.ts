/**
 * Leftovers of earlier removals (issue 17) on the real API server: a cluster with each kind
 * (a mesh webhook whose service is gone, failurePolicy Fail; a mesh CRD without the part-of label;
 * a mesh APIService whose service is gone; a SPIRE volume no spire-server claims; a
 * csi-driver-sentinel Job of an earlier removal; a stuck terminating namespace that still holds a
 * release of the mesh chart). `plan` lists each, the upgrade refuses (exit 3, nothing changed),
 * `--clean-leftovers` clears them after the backup and the manual upgrade then converges. The
 * check before a deploy is run directly against the same kinds of leftovers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReleaseSecret } from '../../src/mesh/release.ts';
import { KubeApiError, type Kube } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { leftoversBeforeDeploy } from '../../src/upgrade/leftover-steps.ts';
import { StepError } from '../../src/errors.ts';
import type { Plan } from '../../src/upgrade/types.ts';
import { kubectl, runTool, testDeps, testKube, uniqueName } from '../support/cluster.ts';
import { expectConverged, expectSettingsKept, nonDefaultFlags, runUpgrade, setUpMesh, toolArgs, type Scenario, type ScenarioOptions } from '../support/upgrade-scenario.ts';
import type { SettingRow } from '../../src/upgrade/setting-fates.ts';
import { release } from './detect-plant.ts';

const part = { 'app.kubernetes.io/part-of': 'nginx-service-mesh' };
const unlabelledCrd = 'circuitbreakers.specs.smi.nginx.com';

/** The names of one set of leftovers (each test plants its own). */
function leftoverNames(apiVersion: string) {
  const webhook = uniqueName('lo-injector').slice(0, 40) + '.nsm.nginx';
  const apiService = `${apiVersion}.metrics.smi-spec.io`;
  const goneNs = uniqueName('lo-gone');
  const oldMesh = uniqueName('lo-oldmesh');
  const sentinelNs = uniqueName('lo-sentinel');
  return {
    webhook, apiService, goneNs, oldMesh, sentinelNs,
    paths: {
      webhook: objectPath({ group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', namespaced: false }, webhook),
      apiService: objectPath({ group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false }, apiService),
      sentinel: objectPath(core.jobs, 'csi-driver-sentinel', sentinelNs),
      oldMesh: objectPath(core.namespaces, oldMesh),
      pvc: (ns: string) => objectPath({ group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true }, 'spire-data-spire-server-0', ns),
    },
  };
}
type Names = ReturnType<typeof leftoverNames>;
const cleanups: (() => Promise<unknown>)[] = [];

const ignore404 = (err: unknown) => { if (!(err instanceof KubeApiError && err.status === 404)) throw err; };
async function exists(kube: Kube, p: string): Promise<boolean> {
  try { await kube.request({ path: p }); return true; } catch (err) { ignore404(err); return false; }
}
/** Creates a namespace (it may exist from the test before). */
async function namespace(kube: Kube, name: string): Promise<void> {
  await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name } } }).catch((err: unknown) => { if (!(err instanceof KubeApiError && err.status === 409)) throw err; });
}
async function waitFor(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) { if (await cond()) return; await new Promise((r) => setTimeout(r, 500)); }
  throw new Error(`timed out waiting for ${what}`);
}

/** What an earlier removal or failed run leaves, one of each kind (the mesh itself lives in `meshNs`). */
async function plantLeftovers(kube: Kube, meshNs: string, n: Names, opts: { unlabelCrd: boolean }): Promise<void> {
  const { webhook: webhookName, apiService: apiServiceName, goneNs, oldMesh, sentinelNs, paths } = n;
  // On OpenShift a removal keeps its namespace while the sentinel runs: an old one still running.
  await namespace(kube, sentinelNs);
  cleanups.push(() => kubectl(['delete', 'namespace', sentinelNs, '--wait=false', '--ignore-not-found'], { reject: false }));
  await kube.request({ method: 'POST', path: collectionPath(core.jobs, sentinelNs), body: {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'csi-driver-sentinel', labels: part },
    spec: { ttlSecondsAfterFinished: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'sentinel', image: 'example/kubectl:1' }] } } },
  } });
  // A SPIRE volume helm uninstall left: the fixture charts' spire-server claims none.
  await kube.request({ method: 'POST', path: collectionPath({ group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true }, meshNs), body: {
    metadata: { name: 'spire-data-spire-server-0', labels: { 'app.kubernetes.io/name': 'spire-server' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
  } });
  // An old mesh's namespace, stuck terminating: a finalizer nobody removes, and its release record still inside.
  await namespace(kube, oldMesh);
  cleanups.push(async () => {
    await kube.request({ method: 'PATCH', path: objectPath(core.configmaps, 'mesh-config', oldMesh), body: { metadata: { finalizers: null } } }).catch(() => undefined);
    await kubectl(['delete', 'namespace', oldMesh, '--wait=false', '--ignore-not-found'], { reject: false });
  });
  await kube.request({ method: 'POST', path: collectionPath(core.configmaps, oldMesh), body: { metadata: { name: 'mesh-config', labels: part, finalizers: ['nsm-upgrade.test/hold'] } } });
  await kube.request({ method: 'POST', path: collectionPath(core.secrets, oldMesh), body: encodeReleaseSecret(release(oldMesh, { status: 'uninstalling' })) });
  // The old mesh's metrics APIService, its service gone: discovery of its group fails, so no namespace deletion finishes.
  cleanups.push(() => kube.request({ method: 'DELETE', path: paths.apiService }).catch(ignore404));
  await kube.request({ method: 'POST', path: collectionPath({ group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false }), body: {
    metadata: { name: apiServiceName, labels: part },
    spec: { group: 'metrics.smi-spec.io', version: apiServiceName.split('.')[0], service: { namespace: goneNs, name: 'nginx-mesh-metrics' }, groupPriorityMinimum: 100, versionPriority: 100, insecureSkipTLSVerify: true },
  } });
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, oldMesh) });
  await waitFor(`namespace ${oldMesh} to be stuck`, async () => {
    const ns = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>({ path: paths.oldMesh });
    return ['NamespaceDeletionDiscoveryFailure', 'NamespaceFinalizersRemaining'].every((t) => ns.status?.conditions?.some((c) => c.type === t && c.status === 'True'));
  });
  if (opts.unlabelCrd) {
    cleanups.push(() => kube.request({ method: 'PATCH', path: objectPath(core.crds, unlabelledCrd), body: { metadata: { labels: part } } }).catch(ignore404));
    // A mesh CRD without its part-of label (installed by hand, or by another SMI user).
    await kube.request({ method: 'PATCH', path: objectPath(core.crds, unlabelledCrd), contentType: 'application/json-patch+json', body: [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1part-of' }] });
  }
  // Last (it refuses every pod create in the cluster): the old injector, failurePolicy Fail, its service gone.
  cleanups.push(() => kube.request({ method: 'DELETE', path: paths.webhook }).catch(ignore404));
  await kube.request({ method: 'POST', path: collectionPath({ group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', namespaced: false }), body: {
    metadata: { name: webhookName, labels: part },
    webhooks: [{ name: 'injector.nsm.nginx.com', failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'],
      clientConfig: { service: { namespace: goneNs, name: 'nginx-mesh-api', path: '/inject' } }, rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] }],
  } });
}

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const leftoverWhats = ({ webhook: webhookName, apiService: apiServiceName, sentinelNs, oldMesh }: Names, meshNs: string) => [
  `MutatingWebhookConfiguration ${webhookName}`,
  `APIService ${apiServiceName}`,
  `Job ${sentinelNs}/csi-driver-sentinel`,
  `PersistentVolumeClaim ${meshNs}/spire-data-spire-server-0`,
  `CRD ${unlabelledCrd} without label`,
  `namespace ${oldMesh} (Terminating, stuck)`,
];

describe('leftovers of earlier removals', () => {
  let s: Scenario | undefined;
  afterAll(async () => { await s?.cleanup(); });

  it('plan lists each; the upgrade refuses until --clean-leftovers, which clears them after the backup, and the upgrade then converges', async (ctx) => {
    ctx.skip(Boolean(process.env.NSM_CHARTS_DIR), 'NSM_CHARTS_DIR installs the real charts, whose spire-server claims the planted SPIRE volume: the scenario needs the fixture charts');
    // Non-default settings too: the plan, the backup and the summary show each one's fate (issue 17, part 2).
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0', deployFlags: nonDefaultFlags };
    s = await setUpMesh(o);
    const kube = await testKube();
    const n = leftoverNames('v1beta1');
    const { webhook: webhookName, apiService: apiServiceName, sentinelNs, oldMesh, paths } = n;
    await plantLeftovers(kube, s.meshNamespace, n, { unlabelCrd: true });
    // The webhook really blocks pod creation (what it breaks).
    const probe = await kubectl(['run', uniqueName('probe'), '-n', s.appNamespaces[0]!, '--image', 'example/x:1', '--restart', 'Never'], { reject: false });
    expect(probe.stderr).toMatch(/failed calling webhook/);

    const plan = await runTool(['plan', ...toolArgs(s, o, ['--strategy', 'manual']).filter((a) => a !== '--yes')]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Leftovers of earlier removals (6): the upgrade refuses to start (exit 3)');
    for (const what of leftoverWhats(n, s.meshNamespace)) expect(plan.stdout).toContain(what);
    expect(plan.stdout).toContain('Settings (before -> after 1.7.0):');
    expect(plan.stdout).toMatch(/\n\s+mtls\.mode\s+strict -> strict\s+carried: passed to nginx-meshctl deploy as --mtls-mode\n/);
    expect(plan.stdout).toMatch(/carried at their defaults: .*accessControlMode/);
    const json = await runTool(['plan', '-o', 'json', ...toolArgs(s, o, ['--strategy', 'manual']).filter((a) => a !== '--yes')]);
    const planned = JSON.parse(json.stdout) as Plan;
    expect(planned.leftovers!.map((l) => l.kind).sort()).toEqual(['apiservice', 'crd-unlabelled', 'sentinel-job', 'spire-pvc', 'terminating-namespace', 'webhook']);
    const rows = planned.hops[0]!.settings!;
    for (const [p, v] of [['mtls.mode', 'strict'], ['clientMaxBodySize', '8m'], ['nginxErrorLogLevel', 'debug']] as const) {
      expect(rows.find((x) => x.path === p), p).toMatchObject({ before: v, after: v, fate: 'carried' });
    }

    const refused = await runUpgrade(s, o, ['--strategy', 'manual']);
    expect(refused.exitCode, refused.stderr).toBe(3);
    for (const what of leftoverWhats(n, s.meshNamespace)) expect(refused.stderr).toContain(what);
    expect(refused.stderr).toContain('--clean-leftovers');
    expect(refused.stderr).toContain(`kubectl delete apiservice ${apiServiceName}`);
    // Nothing changed: same mesh, every leftover still there, no backup written.
    expect((await detectInstall({ kube } as never, { meshNamespace: s.meshNamespace })).version).toBe('1.6.0');
    for (const p of [paths.webhook, paths.apiService, paths.sentinel, paths.oldMesh, paths.pvc(s.meshNamespace)]) expect(await exists(kube, p), p).toBe(true);
    expect(fs.existsSync(path.join(s.backupDir, 'journal.ndjson'))).toBe(false);

    const r = await runUpgrade(s, o, ['--strategy', 'manual', '--clean-leftovers']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const journal = fs.readFileSync(path.join(s.backupDir, 'journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; data?: { cleared?: string[] } });
    expect(journal.filter((j) => j.type === 'step').map((j) => j.step)).toEqual(['hop1.backup', 'hop1.clean-leftovers', 'hop1.remove', 'hop1.deploy', 'hop1.restore', 'hop1.restart', 'hop1.verify']);
    const cleared = journal.find((j) => j.step === 'hop1.clean-leftovers')!.data!.cleared!;
    expect(cleared).toEqual([
      `deleted MutatingWebhookConfiguration ${webhookName}`,
      `deleted APIService ${apiServiceName}`,
      `deleted Job ${sentinelNs}/csi-driver-sentinel (from an earlier removal)`,
      `deleted PersistentVolumeClaim ${s.meshNamespace}/spire-data-spire-server-0`,
      expect.stringContaining(`labelled CRD ${unlabelledCrd}`),
      `removed finalizers nsm-upgrade.test/hold of configmaps/mesh-config in ${oldMesh}`,
      `namespace ${oldMesh} is gone`,
    ]);
    for (const p of [paths.webhook, paths.apiService, paths.sentinel, paths.oldMesh]) expect(await exists(kube, p), p).toBe(false);
    await expectConverged(s, '1.7.0');
    await expectSettingsKept(s);
    // Every setting's fate: saved with the backup, shown again in the summary with what verify found on the new mesh.
    const saved = JSON.parse(fs.readFileSync(path.join(s.backupDir, 'hop1', 'settings.json'), 'utf8')) as { settings: SettingRow[] };
    expect(saved.settings).toEqual(rows);
    expect((fs.statSync(path.join(s.backupDir, 'hop1', 'settings.json')).mode & 0o777).toString(8)).toBe('600');
    expect(r.stdout).toMatch(/Hop 1 settings \(1\.6\.0 -> 1\.7\.0, manual\):/);
    expect(r.stdout).toMatch(/mtls\.mode\s+strict -> strict\s+carried: .*\[on the new mesh\]/);
    // Redeployed by 1.7.0, with its label.
    const crd = await kube.request<{ metadata: { labels?: Record<string, string> } }>({ path: objectPath(core.crds, unlabelledCrd) });
    expect(crd.metadata.labels).toMatchObject(part);
  });
});

describe('the check before a deploy (no mesh installed)', () => {
  const meshNs = uniqueName('lo-removed');
  const plan = (clean: boolean) => ({ hops: [{ steps: clean ? [{ kind: 'clean-leftovers' }] : [] }] }) as unknown as Plan;

  it('refuses what a removal left, naming each with its command; with --clean-leftovers it clears them', async () => {
    const kube = await testKube();
    const deps = await testDeps();
    await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name: meshNs } } });
    cleanups.push(() => kubectl(['delete', 'namespace', meshNs, '--wait=false', '--ignore-not-found'], { reject: false }));
    // A pod still injected by the removed mesh: the old sentinel keeps waiting (the emulator releases it when none is left).
    await kube.request({ method: 'POST', path: collectionPath(core.pods, meshNs), body: { metadata: { name: 'still-injected', annotations: { 'injector.nsm.nginx.com/status': 'injected' } }, spec: { containers: [{ name: 'app', image: 'example/app:1' }] } } });
    const n = leftoverNames('v1beta2');
    const { webhook: webhookName, apiService: apiServiceName, sentinelNs, oldMesh, paths } = n;
    await plantLeftovers(kube, meshNs, n, { unlabelCrd: false });
    const opts = { namespace: meshNs, release: undefined, timeoutMs: 120_000, progress: () => undefined };

    const err = await leftoversBeforeDeploy(deps, { ...opts, plan: plan(false) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    const message = (err as StepError).message;
    for (const what of [`MutatingWebhookConfiguration ${webhookName}`, `APIService ${apiServiceName}`, `Job ${sentinelNs}/csi-driver-sentinel`, `namespace ${oldMesh} (Terminating, stuck)`]) expect(message).toContain(what);
    expect(message).toContain(`clear it: kubectl delete job csi-driver-sentinel -n ${sentinelNs}`);
    // The SPIRE volume is the removed mesh's own: kept, as an in-place upgrade would.
    expect(message).not.toContain('PersistentVolumeClaim');
    expect(await exists(kube, paths.webhook)).toBe(true);

    const cleared = await leftoversBeforeDeploy(deps, { ...opts, plan: plan(true) });
    expect(cleared).toContain(`namespace ${oldMesh} is gone`);
    for (const p of [paths.webhook, paths.apiService, paths.oldMesh]) expect(await exists(kube, p), p).toBe(false);
    await waitFor('the sentinel Job to be gone', async () => !(await exists(kube, paths.sentinel)));
    expect(await exists(kube, paths.pvc(meshNs))).toBe(true);
    expect(await leftoversBeforeDeploy(deps, { ...opts, plan: plan(false) })).toEqual([]);
  });
});
