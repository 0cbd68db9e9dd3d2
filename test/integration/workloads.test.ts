/**
 * Convergence after an upgrade, through the library API the upgrade executor uses: the control
 * plane is on 1.7.0, the sidecars on 1.6.0; `restartWorkloads` restarts what is behind and its
 * final re-read of the pods sees the new versions. With no webhook in this test, the API client
 * plays the injector's part: the restart PATCH also carries the new sidecar image, as the webhook
 * would inject it into every re-created pod. The rollout itself is still triggered by that one patch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.ts';
import type { KubeRequest } from '../../src/kube/client.ts';
import { restartWorkloads, skewReport, type RestartProgress } from '../../src/workloads/index.ts';
import { kubectl, testDeps, testKube, uniqueName } from '../support/cluster.ts';
import {
  create,
  createNamespace,
  deleteNamespace,
  deployment,
  fakeControlPlane,
  statefulSet,
} from './workloads-manifests.ts';

const mesh = uniqueName('wl-mesh');
const apps = uniqueName('wl-apps');

/** Deps whose restart patches also set the sidecar image to `version` (the injector's effect). */
async function depsWithInjector(version: string): Promise<Deps & { patches: number }> {
  const deps = await testDeps();
  const out = { ...deps, patches: 0, kube: { ...deps.kube } } as Deps & { patches: number };
  out.kube.request = async <T>(r: KubeRequest): Promise<T> => {
    const body = r.body as
      { spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec?: unknown } } } | undefined;
    if (r.method === 'PATCH' && body?.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']) {
      out.patches++;
      body.spec.template.spec = {
        containers: [{ name: 'nginx-mesh-sidecar', image: `nginx/nginx-mesh-sidecar:${version}` }],
      };
    }
    return deps.kube.request<T>(r);
  };
  return out;
}

beforeAll(async () => {
  const kube = await testKube();
  await createNamespace(kube, mesh);
  await createNamespace(kube, apps);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  await create(kube, apps, deployment('web', { version: '1.6.0', replicas: 3 }));
  await create(kube, apps, statefulSet('db', { version: '1.6.0', replicas: 2 }));
  await create(kube, apps, deployment('fresh', { version: '1.7.0' }));
  for (const ref of ['deployment/web', 'statefulset/db', 'deployment/fresh'])
    await kubectl(['rollout', 'status', '-n', apps, ref, '--timeout', '90s']);
});

afterAll(async () => {
  const kube = await testKube();
  await Promise.all([mesh, apps].map((ns) => deleteNamespace(kube, ns)));
});

describe('convergence after an upgrade', () => {
  it('restarts only the workloads behind, then reads every pod on the target version', async () => {
    const deps = await depsWithInjector('1.7.0');
    const before = await skewReport(deps, { meshNamespace: mesh, namespace: apps });
    expect(before.converged).toBe(false);
    expect(before.byVersion).toEqual({ '1.6.0': 5, '1.7.0': 1 });

    const progress: RestartProgress[] = [];
    const result = await restartWorkloads(deps, {
      targetVersion: '1.7.0',
      mode: 'behind',
      concurrency: 1,
      timeoutMs: 90_000,
      deleteBarePods: false,
      namespace: apps,
      onProgress: (p) => progress.push(p),
    });
    expect(deps.patches).toBe(2);
    expect(result.restarted.map((r) => `${r.kind}/${r.name}`)).toEqual(['Deployment/web', 'StatefulSet/db']);
    expect(result.upToDate).toBe(1); // deployment/fresh was already on 1.7.0 and is left alone
    expect(result.concurrency).toBe(1);
    // Slow start: the smallest workload first, alone (db: 2 pods), then the rest longest first at concurrency 1 (web: 3 pods).
    expect(progress.filter((p) => p.state === 'done').map((p) => `${p.index}/${p.total} ${p.name}`)).toEqual([
      '1/2 db',
      '2/2 web',
    ]);
    expect(result.final).toEqual({ converged: true, byVersion: { '1.7.0': 6 }, behind: [] });

    const after = await skewReport(deps, { meshNamespace: mesh, namespace: apps });
    expect(after.converged).toBe(true);
    expect(after.workloads.map((w) => [w.name, w.versions])).toEqual([
      ['fresh', { '1.7.0': 1 }],
      ['web', { '1.7.0': 3 }],
      ['db', { '1.7.0': 2 }],
    ]);
  });

  it('reports an explicit target the control plane does not run yet as behind everywhere', async () => {
    const report = await skewReport(await testDeps(), { meshNamespace: mesh, namespace: apps, targetVersion: '2.0.0' });
    expect(report.targetVersion).toBe('2.0.0');
    expect(report.controlPlane.version).toBe('1.7.0');
    expect(report.workloads.every((w) => w.behind)).toBe(true);
  });
});
