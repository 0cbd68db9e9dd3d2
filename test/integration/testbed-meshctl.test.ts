/**
 * nginx-meshctl against the real API server: deploy 1.6.0 (the stand-in: 1.6.0 has no source), then
 * the vendor's real 1.7.0 where cluster:up built it (else its stand-in): the upgrade prompt, the in-place
 * upgrade to 1.7.0 keeping custom resources, and remove deleting the CRDs and the namespace.
 * One mesh namespace for the whole file (steps build on each other), under the cluster-wide mesh lock.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { KubeObject } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import {
  cleanupMesh,
  controlPlane,
  crdsStillAlive,
  deleteNewCrds,
  exists,
  helm,
  meshCrdUids,
  meshCrds,
  meshctl,
  releaseMeshLock,
  takeMesh,
  trafficTargets,
  waitGone,
} from '../fixtures/meshctl/testbed.ts';
import { clusterEnv, testKube, uniqueName } from '../support/cluster.ts';
import { clearMeshTraces, realStderr } from '../support/real-meshctl.ts';

const ns = uniqueName('tb-meshctl');
const holder = `testbed-meshctl/${ns}`;
const helm3 = clusterEnv().HELM3 ?? 'helm';
let blocked: string | undefined;
let crdsBefore: string[] = [];

function needMesh(ctx: TestContext): void {
  if (blocked) ctx.skip(blocked);
}

beforeAll(async () => {
  const kube = await testKube();
  blocked = await takeMesh(kube, holder);
  // deploy refuses while any mesh release or CRD is left (as the real 1.7.0 does): start from none.
  if (!blocked) await clearMeshTraces(kube);
  crdsBefore = await meshCrds(kube);
});

afterAll(async () => {
  const kube = await testKube();
  if (!blocked) {
    await cleanupMesh(kube, helm3, 'nginx-service-mesh', ns);
    await deleteNewCrds(kube, crdsBefore);
    await releaseMeshLock(kube, holder);
  }
});

const imageOf = async (name: string) => (await controlPlane(await testKube(), ns)).get(`Deployment/${name}`)?.images[0];

describe('nginx-meshctl 1.6.0 stand-in then the real 1.7.0 on the local cluster', () => {
  it('deploys 1.6.0: control plane with real names, labels and 1.6.0 images, CRDs, webhooks, APIService, release values', async (ctx) => {
    needMesh(ctx);
    const r = await meshctl('1.6.0', [
      '-n',
      ns,
      'deploy',
      '--mtls-mode',
      'strict',
      '--disable-auto-inject',
      '--enabled-namespaces',
      'shop,cart',
      '--persistent-storage',
      'off',
      '-t',
      '3m',
    ]);
    expect(realStderr(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Deploying NGINX Service Mesh Control Plane v1.6.0 in namespace "${ns}"`);
    const kube = await testKube();
    const cp = await controlPlane(kube, ns);
    expect([...cp.keys()]).toEqual(
      expect.arrayContaining([
        'Deployment/nginx-mesh-api',
        'Deployment/nginx-mesh-metrics',
        'Deployment/nats-server',
        'Deployment/spire-server',
        'DaemonSet/spire-agent',
      ]),
    );
    expect(cp.get('Deployment/nginx-mesh-api')).toMatchObject({
      labels: { 'app.kubernetes.io/name': 'nginx-mesh-api', 'app.kubernetes.io/part-of': 'nginx-service-mesh' },
      images: ['docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0'],
    });
    expect(await meshCrds(kube)).toEqual(
      expect.arrayContaining([
        'trafficsplits.split.smi-spec.io',
        'traffictargets.access.smi-spec.io',
        'ratelimits.specs.smi.nginx.com',
      ]),
    );
    const webhook = await kube.request<{ webhooks: { clientConfig: { service?: { namespace: string } } }[] }>({
      path: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx',
    });
    expect(webhook.webhooks.length).toBeGreaterThan(0);
    expect(await exists(kube, '/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.nsm.nginx.com')).toBe(true);
    expect(await exists(kube, objectPath(core.secrets, 'sh.helm.release.v1.nginx-service-mesh.v1', ns))).toBe(true);
    const values = JSON.parse(
      (await helm(helm3, ['get', 'values', 'nginx-service-mesh', '-n', ns, '-o', 'json'])).stdout,
    ) as Record<string, unknown>;
    expect(values).toMatchObject({
      environment: 'kubernetes',
      mtls: { mode: 'strict' },
      disableAutoInjection: true,
      enabledNamespaces: ['shop', 'cart'],
      registry: { imageTag: '1.6.0' },
    });
  });

  it('version prints its own version first, then the deployed components', async (ctx) => {
    needMesh(ctx);
    const r = await meshctl('1.6.0', ['-n', ns, 'version']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('nginx-meshctl - v1.6.0');
    expect(lines).toContain('nginx-mesh-api - v1.6.0');
    const absent = await meshctl('1.6.0', ['-n', `${ns}-absent`, 'version']);
    expect(absent.stdout.split('\n')[1]).toBe('Unable to get versions for remaining components, make sure:');
  });

  it('refuses a second deploy, in its namespace and in any other, changing nothing', async (ctx) => {
    needMesh(ctx);
    const again = await meshctl('1.6.0', ['-n', ns, 'deploy']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toBe(
      `Error: mesh already exists: found existing release 'nginx-service-mesh' of NGINX Service Mesh in namespace '${ns}' with status 'deployed'`,
    );
    const elsewhere = await meshctl('1.6.0', ['-n', `${ns}-other`, 'deploy']);
    expect(elsewhere.exitCode).toBe(1);
    expect(elsewhere.stderr).toContain('mesh already exists');
    expect(await exists(await testKube(), objectPath(core.namespaces, `${ns}-other`))).toBe(false);
    expect(await imageOf('nginx-mesh-api')).toBe('docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0');
  });

  it('asks before upgrading and, answered no, stops with "command stopped by user" (exit 1)', async (ctx) => {
    needMesh(ctx);
    const r = await meshctl('1.7.0', ['-n', ns, 'upgrade'], { input: 'n\n' });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`Preparing to upgrade NGINX Service Mesh in namespace "${ns}".`);
    expect(r.stdout).toContain('Do you want to continue (y/n)?');
    expect(r.stderr).toBe('Error: command stopped by user');
    expect(await imageOf('nginx-mesh-api')).toBe('docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0');
  });

  it('upgrades 1.6.0 -> 1.7.0 in place: CRDs applied first, custom resources kept, images on 1.7.0, values reused', async (ctx) => {
    needMesh(ctx);
    const kube = await testKube();
    // TrafficTarget: not covered by the policy-validating webhook, so it can be created without the emulator.
    const tt = await kube.request<KubeObject>({
      method: 'POST',
      path: collectionPath(trafficTargets, ns),
      body: {
        apiVersion: 'access.smi-spec.io/v1alpha2',
        kind: 'TrafficTarget',
        metadata: { name: 'tt-keep' },
        spec: {
          destination: { kind: 'ServiceAccount', name: 'web', namespace: ns },
          sources: [{ kind: 'ServiceAccount', name: 'shop', namespace: ns }],
        },
      },
    });
    const r = await meshctl('1.7.0', ['-n', ns, 'upgrade', '-y', '-t', '3m']);
    expect(realStderr(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toContain(`Upgrading NGINX Service Mesh in namespace "${ns}".`);
    // As the vendor CLI prints it: "Waiting up to 3m0s for components to be ready...done." then "Upgrade complete."
    expect(r.stdout).toMatch(/Waiting up to 3m0s for components to be ready\.\.\.(done\.\n)?Upgrade complete\./);
    const kept = await kube.request<KubeObject>({ path: objectPath(trafficTargets, 'tt-keep', ns) });
    expect(kept.metadata?.uid).toBe(tt.metadata?.uid);
    expect(kept.spec).toEqual(tt.spec);
    expect(await imageOf('nginx-mesh-api')).toBe('docker-registry.nginx.com/nsm/nginx-mesh-api:1.7.0');
    expect(await imageOf('nginx-mesh-metrics')).toBe('docker-registry.nginx.com/nsm/nginx-mesh-metrics:1.7.0');
    const crd = await kube.request<{ metadata: { managedFields: { manager: string; operation: string }[] } }>({
      path: objectPath(core.crds, 'trafficsplits.split.smi-spec.io'),
    });
    expect(crd.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: 'nginx-meshctl' }));
    const list = JSON.parse((await helm(helm3, ['list', '-n', ns, '-o', 'json'])).stdout) as {
      name: string;
      chart: string;
      revision: string;
      status: string;
    }[];
    expect(list).toEqual([expect.objectContaining({ name: 'nginx-service-mesh', revision: '2', status: 'deployed' })]);
    const values = JSON.parse(
      (await helm(helm3, ['get', 'values', 'nginx-service-mesh', '-n', ns, '-o', 'json'])).stdout,
    ) as Record<string, unknown>;
    expect(values).toMatchObject({
      mtls: { mode: 'strict' },
      enabledNamespaces: ['shop', 'cart'],
      registry: { imageTag: '1.7.0' },
    });
  });

  it('removes: release, every part-of CRD (with its objects) and the namespace', async (ctx) => {
    needMesh(ctx);
    const kube = await testKube();
    const before = await meshCrdUids(kube);
    const r = await meshctl('1.7.0', ['-n', ns, 'remove', '-y', '-t', '3m']);
    expect(realStderr(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('NGINX Service Mesh removed successfully.');
    expect(before.size).toBeGreaterThan(0);
    expect(await crdsStillAlive(kube, before)).toEqual([]);
    expect(await waitGone(kube, objectPath(core.namespaces, ns), 60_000)).toBe(true);
    expect(
      await exists(
        kube,
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx',
      ),
    ).toBe(false);
    // The vendor CLI asks (even with -y) to clean up lingering CRDs, then fails with "not found".
    const gone = await meshctl('1.7.0', ['-n', ns, 'remove', '-y'], { input: 'y\n' });
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toBe(`Error: namespace '${ns}' not found`);
  });
});
