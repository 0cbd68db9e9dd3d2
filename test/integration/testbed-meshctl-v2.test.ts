/**
 * nginx-meshctl 2.0.0 (the vendor's real binary where cluster:up built it, else the stand-in) upgrading
 * a 1.7.0 mesh in place on the real API server: the 2.0 CRDs (MeshConfig) are
 * applied before Helm runs, nginx-mesh-api gives way to nginx-mesh-controller, the MeshConfig object exists,
 * the 1.x-only values are gone from the release, the vendor's v2 auto-injection warning is printed, and
 * `version` reads nginx-mesh-controller's /version through the API server's service proxy.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { objectPath } from '../../src/kube/paths.ts';
import {
  cleanupMesh,
  controlPlane,
  deleteNewCrds,
  exists,
  helm,
  meshCrds,
  meshctl,
  releaseMeshLock,
  takeMesh,
} from '../fixtures/meshctl/testbed.ts';
import { clusterEnv, testKube, uniqueName } from '../support/cluster.ts';
import { clearMeshTraces, realMeshctl, realStderr } from '../support/real-meshctl.ts';

const ns = uniqueName('tb-meshctl-v2');
const holder = `testbed-meshctl-v2/${ns}`;
const helm3 = clusterEnv().HELM3 ?? 'helm';
let blocked: string | undefined;
let crdsBefore: string[] = [];

beforeAll(async () => {
  const kube = await testKube();
  blocked = await takeMesh(kube, holder);
  // deploy refuses while any mesh release or CRD is left (the real 1.7.0 does): start from none.
  if (!blocked) await clearMeshTraces(kube);
  crdsBefore = await meshCrds(kube);
});

afterAll(async () => {
  if (blocked) return;
  const kube = await testKube();
  await cleanupMesh(kube, helm3, 'nginx-service-mesh', ns);
  await deleteNewCrds(kube, crdsBefore);
  await releaseMeshLock(kube, holder);
});

describe('nginx-meshctl 2.0.0 upgrade of a 1.7.0 mesh', () => {
  it('moves the control plane to nginx-mesh-controller 2.0.0 with the MeshConfig, dropping the 1.x-only values', async (ctx: TestContext) => {
    if (blocked) {
      return ctx.skip(blocked);
    }
    const kube = await testKube();
    const d = await meshctl('1.7.0', [
      '-n',
      ns,
      'deploy',
      '--disable-auto-inject',
      '--enabled-namespaces',
      'shop',
      '--persistent-storage',
      'off',
      '-t',
      '3m',
    ]);
    expect(realStderr(d.stderr)).toBe('');
    expect(d.exitCode).toBe(0);

    const r = await meshctl('2.0.0', ['-n', ns, 'upgrade', '-y', '-t', '3m']);
    expect(realStderr(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    // The stand-in names what it dropped; the real binary drops it silently (its values struct has no such keys).
    if (!realMeshctl('2.0.0'))
      expect(r.stdout).toContain(
        'Settings that v2.0.0 no longer supports were removed: disableAutoInjection, enabledNamespaces.',
      );
    expect(r.stdout).toContain('Upgrade complete.');
    expect(r.stdout).toContain('add the auto-inject label to each namespace where auto-injection is desired');

    const cp = await controlPlane(kube, ns);
    expect(cp.get('Deployment/nginx-mesh-controller')?.images).toEqual([
      'docker-registry.nginx.com/nsm/nginx-mesh-controller:2.0.0',
    ]);
    expect(cp.has('Deployment/nginx-mesh-api')).toBe(false);
    expect(await meshCrds(kube)).toEqual(
      expect.arrayContaining(['meshconfigs.nsm.nginx.com', 'meshconfigclasses.nsm.nginx.com']),
    );
    const meshConfigs = { group: 'nsm.nginx.com', version: 'v1alpha2', plural: 'meshconfigs', namespaced: true };
    expect(await exists(kube, objectPath(meshConfigs, 'nginx-mesh-config', ns))).toBe(true);
    expect(await exists(kube, '/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.nsm.nginx.com')).toBe(false);
    const values = JSON.parse(
      (await helm(helm3, ['get', 'values', 'nginx-service-mesh', '-n', ns, '-o', 'json'])).stdout,
    ) as Record<string, unknown>;
    expect(values).toMatchObject({ environment: 'kubernetes', registry: { imageTag: '2.0.0' } });
    expect(values).not.toHaveProperty('disableAutoInjection');
    expect(values).not.toHaveProperty('enabledNamespaces');
    const v = await meshctl('2.0.0', ['-n', ns, 'version']);
    expect(v.stdout.split('\n')[0]).toBe('nginx-meshctl - v2.0.0');
    expect(v.stdout.split('\n')).toContain('nginx-mesh-controller - v2.0.0');
  });
});
