/**
 * Issue 26, the upgrade's side: an in-place hop (nginx-meshctl 1.6.0 -> 1.7.0 on the test bed) whose
 * restart cannot create a surge pod (maxSurge 1, maxUnavailable 0, a ResourceQuota at the pods that
 * exist). The control plane is upgraded; the restart stops at its first workload, naming the quota;
 * the run ends not converged (exit 4) with the command that continues; the other workload is never
 * touched. Raising the quota and running that command converges the mesh.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runUpgrade, setUpMesh, type Scenario, type ScenarioOptions } from '../support/upgrade-scenario.ts';
import { runTool } from '../support/cluster.ts';
import { sidecarVersions } from '../support/mesh-scenario.ts';
import { until } from './workloads-manifests.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';

let s: Scenario | undefined;
afterAll(async () => {
  await s?.cleanup();
});

const quotas = { group: '', version: 'v1', plural: 'resourcequotas', namespaced: true };

async function setQuota(sc: Scenario, ns: string, pods: number): Promise<void> {
  const path = objectPath(quotas, 'pods', ns);
  const body = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'pods' },
    spec: { hard: { pods: String(pods) } },
  };
  const cur = await sc.kube.request<{ metadata: { resourceVersion: string } }>({ path }).catch(() => undefined);
  if (cur)
    await sc.kube.request({
      method: 'PUT',
      path,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } },
    });
  else await sc.kube.request({ method: 'POST', path: collectionPath(quotas, ns), body });
  await until(`quota pods=${pods} computed`, async () => {
    const q = await sc.kube.request<{ status?: { hard?: { pods?: string }; used?: { pods?: string } } }>({ path });
    return q.status?.hard?.pods === String(pods) && q.status.used?.pods !== undefined;
  });
}

describe('an upgrade hop whose restart meets the failure gate', () => {
  it('upgrades the control plane, stops the restart at the first failure (exit 4), and the continue command finishes it', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0', namespaces: 1 };
    s = await setUpMesh(o);
    const ns = s.appNamespaces[0]!;
    for (const app of ['frontend', 'backend']) {
      // Strategy and deadline only: the pod template is unchanged, so nothing rolls now.
      await s.kube.request({
        method: 'PATCH',
        path: objectPath(core.deployments, app, ns),
        body: {
          spec: {
            progressDeadlineSeconds: 10,
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          },
        },
      });
    }
    await setQuota(s, ns, 2);
    const r = await runUpgrade(s, o);
    expect(r.exitCode, r.stderr).toBe(4);
    // The control plane is done.
    expect((await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace })).version).toBe('1.7.0');
    const out = r.stdout + r.stderr;
    expect(out).toMatch(
      /Deployment .*\/backend: .*exceeded its progress deadline; reason: ReplicaSet backend-\w+ FailedCreate: .*exceeded quota/,
    );
    expect(out).toMatch(
      /1 workload\(s\) not restarted: the restart stopped at the failure gate \(--max-failures 1\): Deployment .*\/frontend/,
    );
    expect(out).toContain(`continue with: kubectl nsm-upgrade restart --mesh-namespace ${s.meshNamespace}`);
    // Only the canary was touched: frontend still runs its 1.6.0 pod, never restarted.
    const frontend = await s.kube.request<{
      spec: { template: { metadata: { annotations?: Record<string, string> } } };
    }>({ path: objectPath(core.deployments, 'frontend', ns) });
    expect(frontend.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    expect(await sidecarVersions(s.kube, [ns])).toEqual({ '1.6.0': 2 });

    await setQuota(s, ns, 4);
    const again = await runTool(['restart', '--mesh-namespace', s.meshNamespace, '--timeout', '90s']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Continuing the restart of run \w+ \(stopped-at-gate/);
    await until(
      'sidecars on 1.7.0',
      async () => JSON.stringify(await sidecarVersions(s!.kube, [ns])) === JSON.stringify({ '1.7.0': 2 }),
      60_000,
    );
  }, 600_000);
});
