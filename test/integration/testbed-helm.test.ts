/**
 * The charts installed with Helm directly, as the NSM docs do (release `nsm`), by Helm 3 and by Helm 4, on the
 * real API server: the control plane with its names, labels and image tags; the OpenShift flavour with its CSI
 * pieces and SecurityContextConstraints; `helm uninstall` running the hooks and leaving CRDs and namespace.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { core, objectPath } from '../../src/kube/paths.ts';
import {
  chartsDir,
  cleanupMesh,
  controlPlane,
  deleteNewCrds,
  exists,
  helm,
  meshCrds,
  releaseMeshLock,
  takeMesh,
} from '../fixtures/meshctl/testbed.ts';
import { clusterEnv, testKube, uniqueName } from '../support/cluster.ts';

const env = clusterEnv();
const helms = [
  { name: 'Helm 3', bin: env.HELM3 ?? '' },
  { name: 'Helm 4', bin: env.HELM4 ?? '' },
];
const holder = uniqueName('testbed-helm');
const namespaces: { ns: string; bin: string }[] = [];
let blocked: string | undefined;
let crdsBefore: string[] = [];

function guard(ctx: TestContext, bin: string): void {
  const why =
    blocked ??
    (!bin || !fs.existsSync(bin)
      ? `no helm binary (${bin || 'unset'}): .cluster/env exports HELM3/HELM4 after npm run cluster:up`
      : undefined);
  if (why) ctx.skip(why);
}

beforeAll(async () => {
  const kube = await testKube();
  blocked = await takeMesh(kube, holder);
  crdsBefore = await meshCrds(kube);
});

afterAll(async () => {
  const kube = await testKube();
  for (const { ns, bin } of namespaces) await cleanupMesh(kube, bin, 'nsm', ns);
  if (!blocked) {
    await deleteNewCrds(kube, crdsBefore);
    await releaseMeshLock(kube, holder);
  }
});

async function install(bin: string, version: string, prefix: string, extra: string[] = []): Promise<string> {
  const ns = uniqueName(prefix);
  namespaces.push({ ns, bin });
  // spire-server without a PVC: the test cluster has no storage provisioner (matters for the real charts).
  // The mesh CRDs may already exist in the shared cluster, made by other tools: Helm 3 skips existing CRDs,
  // Helm 4 server-side applies them and reports a field-manager conflict unless told to take them over.
  const major = bin === env.HELM4 ? ['--force-conflicts'] : [];
  const r = await helm(bin, [
    'install',
    'nsm',
    path.join(chartsDir, version),
    '--namespace',
    ns,
    '--create-namespace',
    '--wait',
    '--timeout',
    '3m',
    '--set',
    'mtls.persistentStorage=off',
    ...major,
    ...extra,
  ]);
  expect(r.stderr.replace(/^(WARNING|walk\.go).*\n?/gm, '')).toBe('');
  expect(r.exitCode).toBe(0);
  return ns;
}

describe.each(helms)('the 1.6.0 chart installed by $name', ({ bin }) => {
  it('installs release nsm with the control plane on 1.6.0 images, and uninstalls through the hooks, leaving CRDs and namespace', async (ctx) => {
    guard(ctx, bin);
    const kube = await testKube();
    const ns = await install(bin, '1.6.0', 'tb-helm16');
    const cp = await controlPlane(kube, ns);
    for (const name of [
      'Deployment/nginx-mesh-api',
      'Deployment/nginx-mesh-metrics',
      'Deployment/nats-server',
      'Deployment/spire-server',
      'DaemonSet/spire-agent',
    ]) {
      expect(cp.get(name)?.labels, name).toMatchObject({
        'app.kubernetes.io/part-of': 'nginx-service-mesh',
        'app.kubernetes.io/name': name.split('/')[1],
      });
    }
    expect(cp.get('Deployment/nginx-mesh-api')?.images).toContain('docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0');
    expect(cp.get('Deployment/nginx-mesh-metrics')?.images).toContain(
      'docker-registry.nginx.com/nsm/nginx-mesh-metrics:1.6.0',
    );
    const list = JSON.parse((await helm(bin, ['list', '-n', ns, '-o', 'json'])).stdout) as {
      name: string;
      chart: string;
      status: string;
    }[];
    expect(list).toEqual([
      expect.objectContaining({ name: 'nsm', chart: 'nginx-service-mesh-0.6.0', status: 'deployed' }),
    ]);
    expect(await meshCrds(kube)).toEqual(
      expect.arrayContaining([
        'trafficsplits.split.smi-spec.io',
        'httproutegroups.specs.smi-spec.io',
        'spiffeids.spiffeid.spiffe.io',
      ]),
    );

    const u = await helm(bin, ['uninstall', 'nsm', '--namespace', ns, '--timeout', '2m']);
    expect(u.exitCode).toBe(0);
    expect(await exists(kube, objectPath(core.deployments, 'nginx-mesh-api', ns))).toBe(false);
    expect(await exists(kube, objectPath(core.namespaces, ns))).toBe(true);
    expect(await meshCrds(kube)).toContain('trafficsplits.split.smi-spec.io');
  });
});

describe('the OpenShift flavour', () => {
  it('1.7.0 with environment=openshift installs the SPIFFE CSI driver and its SecurityContextConstraints', async (ctx) => {
    guard(ctx, env.HELM3 ?? '');
    const kube = await testKube();
    const ns = await install(env.HELM3!, '1.7.0', 'tb-helm17os', ['--set', 'environment=openshift']);
    const cp = await controlPlane(kube, ns);
    expect(cp.get('DaemonSet/spiffe-csi-driver')).toBeDefined();
    expect(cp.get('Deployment/nginx-mesh-api')?.images).toContain('docker-registry.nginx.com/nsm/nginx-mesh-api:1.7.0');
    expect(await exists(kube, '/apis/storage.k8s.io/v1/csidrivers/csi.spiffe.io')).toBe(true);
    expect(
      await exists(
        kube,
        '/apis/security.openshift.io/v1/securitycontextconstraints/nginx-mesh-spiffe-csi-driver-permissions',
      ),
    ).toBe(true);
  });
});
