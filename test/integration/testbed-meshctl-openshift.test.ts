/**
 * `nginx-meshctl remove` on OpenShift while injected workloads remain, on the real API server with the mesh
 * emulator playing the sidecar injector and the csi-driver-cleanup hook: the sentinel Job is created, the
 * namespace is kept, the still-injected Deployment is listed, and after a restart the sentinel completes and
 * the TTL controller deletes it. Needs the emulator (npm run cluster:up starts it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { KubeList } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import {
  cleanupMesh,
  crdsStillAlive,
  deleteNewCrds,
  exists,
  meshCrdUids,
  meshCrds,
  meshctl,
  releaseMeshLock,
  takeMesh,
  waitGone,
} from '../fixtures/meshctl/testbed.ts';
import { clusterDir, clusterEnv, kubectl, testKube, uniqueName } from '../support/cluster.ts';
import { clearMeshTraces, realStderr } from '../support/real-meshctl.ts';
import { waitFor } from '../support/wait.ts';

const ns = uniqueName('tb-os-mesh');
const appNs = uniqueName('tb-os-app');
const holder = `testbed-meshctl-openshift/${ns}`;
const emulatorRunning = fs.existsSync(path.join(clusterDir, 'emulator.pid'));
let blocked: string | undefined;
let crdsBefore: string[] = [];

interface Pod {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
}
const injected = (p: Pod) => p.metadata.annotations?.['injector.nsm.nginx.com/status'] === 'injected';

/** Waits for `fn` to return a value (polled on the test support's short interval). */
function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  return waitFor(what, fn, { timeoutMs });
}

function guard(ctx: TestContext): void {
  const why = !emulatorRunning
    ? `needs the mesh emulator (${path.join(clusterDir, 'emulator.pid')} is absent; npm run cluster:up starts it)`
    : blocked;
  if (why) ctx.skip(why);
}

beforeAll(async () => {
  if (!emulatorRunning) return;
  const kube = await testKube();
  blocked = await takeMesh(kube, holder);
  // deploy refuses while any mesh release or CRD is left (the real 1.7.0 does): start from none.
  if (!blocked) await clearMeshTraces(kube);
  crdsBefore = await meshCrds(kube);
});

afterAll(async () => {
  if (!emulatorRunning || blocked) return;
  const kube = await testKube();
  await kubectl(['delete', 'namespace', appNs, '--wait=false', '--ignore-not-found']);
  await cleanupMesh(kube, clusterEnv().HELM3 ?? 'helm', 'nginx-service-mesh', ns);
  await deleteNewCrds(kube, crdsBefore);
  await releaseMeshLock(kube, holder);
});

describe('nginx-meshctl remove on OpenShift with injected workloads (mesh emulator)', () => {
  it('keeps the namespace while the csi-driver-sentinel runs, lists the workload, and the sentinel goes after a restart', async (ctx) => {
    guard(ctx);
    const kube = await testKube();
    const d = await meshctl('1.7.0', [
      '-n',
      ns,
      'deploy',
      '--environment',
      'openshift',
      '--persistent-storage',
      'off',
      '-t',
      '3m',
    ]);
    expect(realStderr(d.stderr)).toBe('');
    expect(d.exitCode).toBe(0);

    // A labelled namespace and a Deployment whose pod the emulator injects (retried until it serves the webhook).
    await kubectl(['create', 'namespace', appNs]);
    await kubectl(['label', 'namespace', appNs, 'injector.nsm.nginx.com/auto-inject=enabled']);
    await eventually('the injector to admit a Deployment', 60_000, async () =>
      (await kubectl(['-n', appNs, 'create', 'deployment', 'web', '--image=nginx:1.27'], { reject: false }))
        .exitCode === 0
        ? true
        : undefined,
    );
    const pods = () => kube.request<KubeList<Pod>>({ path: collectionPath(core.pods, appNs) });
    await eventually('an injected web pod', 90_000, async () =>
      (await pods()).items.some(injected) ? true : undefined,
    );

    const crds = await meshCrdUids(kube);
    const r = await meshctl('1.7.0', ['-n', ns, 'remove', '-y', '-t', '3m']);
    expect(realStderr(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    // The CSI driver runs and a workload keeps its sidecar: the vendor CLI reports a partial removal.
    expect(r.stdout).toContain('NGINX Service Mesh partially removed.');
    expect(r.stdout).toContain('NOTE: The following resources still contain the sidecar proxy:');
    expect(r.stdout).toMatch(/^ {2}NAMESPACE\s+RESOURCE$/m);
    expect(r.stdout).toMatch(new RegExp(`^ {2}${appNs}\\s+deployment/web$`, 'm'));
    expect(r.stdout).toContain(`by the 'csi-driver-sentinel' Job in the ${ns} namespace`);
    expect(await exists(kube, objectPath(core.jobs, 'csi-driver-sentinel', ns))).toBe(true);
    expect(await exists(kube, objectPath(core.namespaces, ns))).toBe(true);
    expect(await crdsStillAlive(kube, crds)).toEqual([]);

    // Restart: the new pod has no sidecar (the mesh is gone); once no injected pod is left in the cluster the
    // sentinel succeeds and, with ttlSecondsAfterFinished 0, is deleted.
    await kubectl(['-n', appNs, 'rollout', 'restart', 'deployment/web']);
    await kubectl(['-n', appNs, 'rollout', 'status', 'deployment/web', '--timeout=120s']);
    await eventually('the old injected pod to go', 90_000, async () =>
      (await pods()).items.some(injected) ? undefined : true,
    );
    const all = await kube.request<KubeList<Pod>>({ path: collectionPath(core.pods) });
    const others = all.items.filter(injected).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    if (others.length > 0)
      return ctx.skip(`other tests' injected pods keep the sentinel running: ${others.join(', ')}`);
    expect(await waitGone(kube, objectPath(core.jobs, 'csi-driver-sentinel', ns), 120_000)).toBe(true);
  });
});
