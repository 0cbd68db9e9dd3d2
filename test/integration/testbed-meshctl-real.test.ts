/**
 * The vendor's real nginx-meshctl 1.7.0 and 2.0.0 (built from the shared source by
 * test/cluster/build-meshctl.sh) against the local cluster and the mesh emulator, reached through
 * the API server's egress proxy: 1.7.0 deploy answered by its aggregated-API health poll, version
 * through the aggregated API, a second deploy refused, remove listing the sidecar workloads the
 * mesh API reports; 2.0.0 deploy waiting for nginx-mesh-controller, version through the service
 * proxy, upgrade (1.x meshes only), remove. Each deploy's time is printed.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import {
  cleanupMesh,
  controlPlane,
  exists,
  helm,
  releaseMeshLock,
  takeMesh,
  waitGone,
} from '../fixtures/meshctl/testbed.ts';
import { clusterEnv, testKube, uniqueName } from '../support/cluster.ts';
import {
  clearMeshCrds,
  clearMeshTraces,
  missingRealMeshctl,
  realStderr,
  runRealMeshctl,
} from '../support/real-meshctl.ts';

const ns = uniqueName('tb-real');
const appNs = `${ns}-app`;
const holder = `testbed-meshctl-real/${ns}`;
const helm3 = clusterEnv().HELM3 ?? 'helm';
let blocked: string | undefined;

const need = (ctx: TestContext) => {
  if (blocked) ctx.skip(blocked);
};
const note = (m: string) => process.stderr.write(`testbed-meshctl-real: ${m}\n`);

beforeAll(async () => {
  blocked = missingRealMeshctl();
  if (blocked) return;
  const kube = await testKube();
  blocked = await takeMesh(kube, holder);
  if (!blocked) await clearMeshTraces(kube);
});

afterAll(async () => {
  if (blocked) return;
  const kube = await testKube();
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, appNs) }).catch(() => undefined);
  await cleanupMesh(kube, helm3, 'nginx-service-mesh', ns);
  await clearMeshCrds(kube).catch(() => undefined);
  await releaseMeshLock(kube, holder);
});

describe('the real nginx-meshctl on the local cluster', () => {
  it('1.7.0 deploy with non-default settings succeeds once its health poll of the mesh API is answered', async (ctx) => {
    need(ctx);
    const r = await runRealMeshctl('1.7.0', [
      '-n',
      ns,
      'deploy',
      '--mtls-mode',
      'strict',
      '--disable-auto-inject',
      '--enabled-namespaces',
      appNs,
      '--persistent-storage',
      'off',
      '--nginx-log-format',
      'json',
      '--pull-always',
    ]);
    note(`real 1.7.0 deploy took ${(r.ms / 1000).toFixed(1)}s`);
    expect(realStderr(r.stderr), r.stdout).toBe('');
    expect(r.exitCode, r.stdout).toBe(0);
    const kube = await testKube();
    const cp = await controlPlane(kube, ns);
    expect(cp.get('Deployment/nginx-mesh-api')?.images).toEqual(['docker-registry.nginx.com/nsm/nginx-mesh-api:1.7.0']);
    const svc = await kube.request<{
      status?: { conditions?: { type: string; status: string }[] };
      spec: { caBundle?: string };
    }>({ path: '/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.nsm.nginx.com' });
    expect(svc.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    expect(svc.spec.caBundle).toBeTruthy();
    const values = JSON.parse(
      (await helm(helm3, ['get', 'values', 'nginx-service-mesh', '-n', ns, '-o', 'json'])).stdout,
    ) as Record<string, unknown>;
    expect(values).toMatchObject({ mtls: { mode: 'strict', persistentStorage: 'off' }, enabledNamespaces: [appNs] });
  });

  it('1.7.0 version prints the components the mesh API reports', async (ctx) => {
    need(ctx);
    const r = await runRealMeshctl('1.7.0', ['-n', ns, 'version']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('nginx-meshctl - v1.7.0');
    expect(lines).toContain('nginx-mesh-api - v1.7.0');
  });

  it("injects a workload in an enabled namespace through the chart's own webhook, and refuses a second deploy anywhere", async (ctx) => {
    need(ctx);
    const kube = await testKube();
    await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name: appNs } } });
    await kube.request({
      method: 'POST',
      path: collectionPath(core.deployments, appNs),
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }], tolerations: [{ operator: 'Exists' }] },
          },
        },
      },
    });
    const deadline = Date.now() + 60_000;
    let injected = false;
    while (!injected && Date.now() < deadline) {
      const pods = await kube.request<{ items: { metadata: { annotations?: Record<string, string> } }[] }>({
        path: collectionPath(core.pods, appNs),
      });
      injected = pods.items.some((p) => p.metadata.annotations?.['injector.nsm.nginx.com/status'] === 'injected');
      if (!injected) await new Promise((r) => setTimeout(r, 500));
    }
    expect(injected).toBe(true);
    const again = await runRealMeshctl('1.7.0', ['-n', `${ns}-other`, 'deploy']);
    expect(again.exitCode).toBe(1);
    expect(await exists(kube, objectPath(core.namespaces, `${ns}-other`))).toBe(false);
  });

  it('1.7.0 remove lists the workloads that still carry a sidecar, from the mesh API', async (ctx) => {
    need(ctx);
    const r = await runRealMeshctl('1.7.0', ['-n', ns, 'remove', '-y']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('NOTE: The following resources still contain the sidecar proxy:');
    expect(r.stdout).toMatch(new RegExp(`${appNs}\\s+deployment/web`));
    expect(await waitGone(await testKube(), objectPath(core.namespaces, ns), 120_000)).toBe(true);
  });

  it('2.0.0 deploy waits for nginx-mesh-controller; version reads it through the service proxy; remove', async (ctx) => {
    need(ctx);
    const kube = await testKube();
    await clearMeshCrds(kube);
    const d = await runRealMeshctl('2.0.0', [
      '-n',
      ns,
      'deploy',
      '--mtls-mode',
      'strict',
      '--persistent-storage',
      'off',
    ]);
    note(`real 2.0.0 deploy took ${(d.ms / 1000).toFixed(1)}s`);
    expect(realStderr(d.stderr), d.stdout).toBe('');
    expect(d.exitCode, d.stdout).toBe(0);
    const cp = await controlPlane(kube, ns);
    expect(cp.get('Deployment/nginx-mesh-controller')?.images).toEqual([
      'docker-registry.nginx.com/nsm/nginx-mesh-controller:2.0.0',
    ]);
    const v = await runRealMeshctl('2.0.0', ['-n', ns, 'version']);
    expect(v.stdout.split('\n')).toEqual(
      expect.arrayContaining(['nginx-meshctl - v2.0.0', 'nginx-mesh-controller - v2.0.0']),
    );
    // No version gate, but 2.0.0 upgrade reads the 1.x ConfigMap mesh-config, which a 2.0 mesh does not have:
    // it upgrades 1.x meshes only (testbed-meshctl-v2 runs 1.7.0 -> 2.0.0), and changes nothing here.
    const u = await runRealMeshctl('2.0.0', ['-n', ns, 'upgrade', '-y', '-t', '3m']);
    expect(u.exitCode).toBe(1);
    expect(realStderr(u.stderr)).toBe(
      'Error: error getting previous mesh configuration: configmaps "mesh-config" not found',
    );
    const rm = await runRealMeshctl('2.0.0', ['-n', ns, 'remove', '-y']);
    expect(rm.exitCode, rm.stderr).toBe(0);
    expect(rm.stdout).toContain('NGINX Service Mesh removed successfully.');
    expect(await waitGone(kube, objectPath(core.namespaces, ns), 120_000)).toBe(true);
  });
});
