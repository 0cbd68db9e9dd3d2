import { describe, expect, it, afterAll } from 'vitest';
import { collectionPath, objectPath, core } from '../../src/kube/paths.ts';
import { KubeApiError, type KubeObject } from '../../src/kube/client.ts';
import { listAll } from '../../src/kube/list.ts';
import { kubectl, testKube, uniqueName, runTool } from '../support/cluster.ts';

// The foundation: a real kube-apiserver with controllers and KWOK nodes behind it.
describe('local cluster', () => {
  const ns = uniqueName('foundation');
  const crdName = 'widgets.foundation.nsm-upgrade.test';
  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false'], { reject: false });
    await kubectl(['delete', 'crd', crdName, '--wait=false'], { reject: false });
  });

  it('serves a CRD, a custom object, and rolls out and restarts a Deployment', async () => {
    const kube = await testKube();
    await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name: ns } } });
    await kube.request({
      method: 'POST',
      path: collectionPath(core.crds),
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: crdName },
        spec: {
          group: 'foundation.nsm-upgrade.test',
          scope: 'Namespaced',
          names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      },
    });
    await kubectl(['wait', '--for=condition=Established', `crd/${crdName}`, '--timeout=60s']);
    const widgets = { group: 'foundation.nsm-upgrade.test', version: 'v1', plural: 'widgets', namespaced: true };
    await kube.request({
      method: 'POST',
      path: collectionPath(widgets, ns),
      body: {
        apiVersion: 'foundation.nsm-upgrade.test/v1',
        kind: 'Widget',
        metadata: { name: 'w1' },
        spec: { size: 3 },
      },
    });
    const got = await kube.request<KubeObject>({ path: objectPath(widgets, 'w1', ns) });
    expect(got.spec).toEqual({ size: 3 });

    await kubectl(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '-n', ns]);
    await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s']);
    const before = await listAll<KubeObject>(kube, collectionPath(core.pods, ns), { labelSelector: 'app=web' });
    expect(before).toHaveLength(2);
    await kubectl(['rollout', 'restart', 'deployment/web', '-n', ns]);
    await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s']);
    const rs = await listAll<KubeObject & { status?: { replicas?: number } }>(
      kube,
      collectionPath(core.replicasets, ns),
      { labelSelector: 'app=web' },
    );
    expect(rs).toHaveLength(2); // the restart made a second ReplicaSet
    expect(rs.map((r) => r.status?.replicas ?? 0).sort()).toEqual([0, 2]);
    const after = await listAll<KubeObject & { status?: { phase?: string } }>(kube, collectionPath(core.pods, ns), {
      labelSelector: 'app=web',
    });
    const running = after.filter(
      (p) => p.status?.phase === 'Running' && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp,
    );
    expect(running.map((p) => p.metadata?.name).sort()).not.toEqual(before.map((p) => p.metadata?.name).sort());
  });

  it('paginates a list with limit/continue', async () => {
    const kube = await testKube();
    for (let i = 0; i < 7; i++) {
      await kube.request({
        method: 'POST',
        path: collectionPath(core.configmaps, ns),
        body: { metadata: { name: `page-${i}`, labels: { page: 'yes' } }, data: { i: String(i) } },
      });
    }
    const all = await listAll(kube, collectionPath(core.configmaps, ns), { limit: 2, labelSelector: 'page=yes' });
    expect(all.map((c) => c.metadata?.name).sort()).toEqual([
      'page-0',
      'page-1',
      'page-2',
      'page-3',
      'page-4',
      'page-5',
      'page-6',
    ]);
  });

  it('reports API errors with their status and reason', async () => {
    const kube = await testKube();
    const err = await kube
      .request({ path: objectPath(core.configmaps, 'does-not-exist', ns) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(404);
    expect((err as KubeApiError).reason).toBe('NotFound');
  });

  it('runs the plugin CLI against the cluster', async () => {
    const res = await runTool(['--help']);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('kubectl nsm-upgrade restore');
    const v = await kubectl(['version', '-o', 'json']);
    expect(JSON.parse(v.stdout).serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });
});
