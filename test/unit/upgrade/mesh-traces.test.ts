/**
 * Before deploy: what real nginx-meshctl deploy refuses over (any mesh-chart release in any
 * namespace, any mesh CRD), waited for with what is left shown; after remove: the cleanup a real
 * remove skips when its uninstall reported an error. And on --resume, a deploy whose control plane
 * never got healthy counts as failed. A small in-memory API server stands in for the cluster.
 */
import { describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { KubeApiError, type KubeObject, type KubeRequest } from '../../../src/kube/client.ts';
import { encodeReleaseSecret, type HelmRelease } from '../../../src/mesh/release.ts';
import {
  describeTraces,
  finishRemoval,
  meshReleasesEverywhere,
  waitForNoMeshTrace,
} from '../../../src/leftovers/mesh-traces.ts';
import { checkDeployed, judgeDeployed } from '../../../src/mesh/deploy-health.ts';

const rel = (over: Partial<HelmRelease>): HelmRelease => ({
  name: 'nginx-service-mesh',
  namespace: 'nginx-mesh',
  revision: 1,
  status: 'deployed',
  chart: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' },
  config: {},
  ...over,
});
const crd = (name: string, deleting = false): KubeObject => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
});

/** Objects by path; DELETE removes; `tick` runs on every sleep (the cluster moving on). */
function fakeCluster(
  objects: Map<string, KubeObject>,
  lists: { crds: () => KubeObject[]; secrets: () => KubeObject[] },
  tick: () => void = () => {},
) {
  const deleted: string[] = [];
  let now = 0;
  const kube = {
    server: 'fake',
    context: 'fake',
    retries: 0,
    async watch() {},
    async request<T>(req: KubeRequest): Promise<T> {
      if (req.method === 'DELETE') {
        deleted.push(req.path);
        objects.delete(req.path);
        return {} as T;
      }
      if (req.path.endsWith('/customresourcedefinitions')) return { items: lists.crds(), metadata: {} } as T;
      if (req.path.endsWith('/secrets')) return { items: lists.secrets(), metadata: {} } as T;
      const o = objects.get(req.path);
      if (!o) throw new KubeApiError(404, req.path, { reason: 'NotFound' });
      return o as T;
    },
  };
  const deps = {
    kube,
    clock: {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
        tick();
      },
    },
    log: { info() {}, warn() {}, debug() {}, error() {} },
  } as unknown as Deps;
  return { deps, deleted };
}

describe('mesh traces', () => {
  it('finds mesh-chart releases in every namespace, newest revision, whatever the status', () => {
    const secrets = [
      rel({}),
      rel({ revision: 2, status: 'uninstalling' }),
      rel({ namespace: 'other', name: 'nsm', status: 'failed' }),
      rel({ namespace: 'x', chart: { name: 'redis', version: '1', appVersion: '1' } }),
    ].map(encodeReleaseSecret);
    expect(meshReleasesEverywhere(secrets)).toEqual([
      'nginx-mesh/nginx-service-mesh (uninstalling)',
      'other/nsm (failed)',
    ]);
    expect(
      describeTraces({
        releases: ['other/nsm (failed)'],
        crds: [{ name: 'a.nsm.nginx.com', deleting: true }],
        terminating: 'nginx-mesh',
      }),
    ).toEqual([
      'Helm release other/nsm (failed)',
      'CRD a.nsm.nginx.com (deleting)',
      'namespace nginx-mesh (terminating)',
    ]);
  });

  it('waits until no CRD, release or terminating namespace is left, showing what it waits for', async () => {
    let crds = [crd('a.nsm.nginx.com', true)];
    let secrets = [encodeReleaseSecret(rel({ namespace: 'elsewhere', status: 'uninstalling' }))];
    let ticks = 0;
    const { deps } = fakeCluster(new Map(), { crds: () => crds, secrets: () => secrets }, () => {
      ticks++;
      if (ticks === 2) secrets = [];
      if (ticks === 4) crds = [];
    });
    const lines: string[] = [];
    await waitForNoMeshTrace(deps, { namespace: 'nginx-mesh', timeoutMs: 60_000, progress: (m) => lines.push(m) });
    expect(lines).toEqual([
      'waiting for the old mesh to be gone before deploy: Helm release elsewhere/nginx-service-mesh (uninstalling), CRD a.nsm.nginx.com (deleting)',
      'waiting for the old mesh to be gone before deploy: CRD a.nsm.nginx.com (deleting)',
    ]);
  });

  it('gives up after the timeout naming what is left', async () => {
    const { deps } = fakeCluster(new Map(), { crds: () => [crd('a.nsm.nginx.com')], secrets: () => [] });
    await expect(
      waitForNoMeshTrace(deps, { namespace: 'nginx-mesh', timeoutMs: 5000, progress: () => {} }),
    ).rejects.toThrow(/not gone after 5s: CRD a\.nsm\.nginx\.com/);
  });

  it('after a remove that skipped its cleanup, deletes the CRDs not being deleted and the namespace (kept on OpenShift)', async () => {
    const ns = '/api/v1/namespaces/nginx-mesh';
    const crds = [crd('a.nsm.nginx.com'), crd('b.nsm.nginx.com', true)];
    const k8s = fakeCluster(new Map([[ns, { metadata: { name: 'nginx-mesh' }, status: { phase: 'Active' } }]]), {
      crds: () => crds,
      secrets: () => [],
    });
    expect(await finishRemoval(k8s.deps, { namespace: 'nginx-mesh', keepNamespace: false })).toEqual([
      'CRD a.nsm.nginx.com',
      'namespace nginx-mesh',
    ]);
    expect(k8s.deleted).toEqual(['/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.nsm.nginx.com', ns]);
    const os = fakeCluster(new Map([[ns, { metadata: { name: 'nginx-mesh' } }]]), {
      crds: () => crds,
      secrets: () => [],
    });
    expect(await finishRemoval(os.deps, { namespace: 'nginx-mesh', keepNamespace: true })).toEqual([
      'CRD a.nsm.nginx.com',
    ]);
  });

  it('does nothing while the mesh release is still there (the remove did not get that far)', async () => {
    const { deps, deleted } = fakeCluster(new Map(), {
      crds: () => [crd('a.nsm.nginx.com')],
      secrets: () => [encodeReleaseSecret(rel({}))],
    });
    expect(await finishRemoval(deps, { namespace: 'nginx-mesh', keepNamespace: false })).toEqual([]);
    expect(deleted).toEqual([]);
    // Nor while another namespace's mesh may own the CRDs.
    const other = fakeCluster(new Map(), {
      crds: () => [crd('a.nsm.nginx.com')],
      secrets: () => [encodeReleaseSecret(rel({ namespace: 'other' }))],
    });
    expect(await finishRemoval(other.deps, { namespace: 'nginx-mesh', keepNamespace: false })).toEqual([]);
  });
});

describe('a deploy an earlier run started', () => {
  const dep = (
    ready: number,
    conditions: { type: string; status: string; reason?: string; message?: string }[] = [],
  ) => ({ status: { readyReplicas: ready, conditions } });
  it('is healthy with a ready control plane; failed with a failed release or a Deployment that stopped progressing', () => {
    expect(judgeDeployed('deployed', 'nginx-mesh-controller', dep(1))).toEqual({ state: 'healthy' });
    expect(judgeDeployed('failed', 'nginx-mesh-controller', dep(1)).state).toBe('failed');
    expect(
      judgeDeployed(
        'deployed',
        'nginx-mesh-api',
        dep(0, [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'x' }]),
      ),
    ).toEqual({ state: 'failed', why: 'Deployment nginx-mesh-api stopped progressing (ProgressDeadlineExceeded: x)' });
    expect(judgeDeployed('deployed', 'nginx-mesh-api', undefined).state).toBe('starting');
    // 1.x: ready pods are not enough while the mesh API does not answer (real 1.7.0's own health check).
    const api = (status: string) => ({
      status: { conditions: [{ type: 'Available', status, message: 'failing or missing response' }] },
    });
    expect(judgeDeployed('deployed', 'nginx-mesh-api', dep(1), api('False'))).toEqual({
      state: 'starting',
      why: 'the mesh API (APIService v1alpha1.nsm.nginx.com) is not available: failing or missing response',
    });
    expect(judgeDeployed('deployed', 'nginx-mesh-api', dep(1), null).state).toBe('starting');
    expect(judgeDeployed('deployed', 'nginx-mesh-api', dep(1), api('True'))).toEqual({ state: 'healthy' });
  });
  it('gets a grace period to become ready, then counts as failed', async () => {
    const path = '/apis/apps/v1/namespaces/nginx-mesh/deployments/nginx-mesh-controller';
    const objects = new Map<string, KubeObject>([[path, dep(0)]]);
    let ticks = 0;
    const late = fakeCluster(objects, { crds: () => [], secrets: () => [] }, () => {
      if (++ticks === 3) objects.set(path, dep(1));
    });
    expect(
      await checkDeployed(late.deps, {
        namespace: 'nginx-mesh',
        version: '2.0.0',
        releaseStatus: 'deployed',
        graceMs: 60_000,
        progress: () => {},
      }),
    ).toEqual({ state: 'healthy' });
    const never = fakeCluster(new Map([[path, dep(0)]]), { crds: () => [], secrets: () => [] });
    const v = await checkDeployed(never.deps, {
      namespace: 'nginx-mesh',
      version: '2.0.0',
      releaseStatus: 'deployed',
      graceMs: 10_000,
      progress: () => {},
    });
    expect(v).toEqual({ state: 'failed', why: 'Deployment nginx-mesh-controller has no ready replica after 10s more' });
  });
});
