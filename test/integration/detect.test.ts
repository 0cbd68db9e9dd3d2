import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { detectInstall } from '../../src/mesh/detect.ts';
import { UsageError } from '../../src/errors.ts';
import { clusterEnv, kubeconfigPath, kubectl, testDeps, uniqueName } from '../support/cluster.ts';
import { dropNamespace, plantMesh } from './detect-plant.ts';

const made: string[] = [];
async function mesh(prefix: string, opts: Parameters<typeof plantMesh>[1]): Promise<string> {
  const ns = uniqueName(prefix);
  made.push(ns);
  await plantMesh(ns, opts);
  return ns;
}
afterAll(async () => {
  for (const ns of made) await dropNamespace(ns);
});

const servesOpenShift = async () =>
  (await kubectl(['api-versions'])).stdout.split('\n').some((l) => l.startsWith('security.openshift.io/'));

describe('detectInstall on the real API server', () => {
  it('a meshctl install: version from the image, newest release revision, environment and values from the release', async () => {
    const ns = await mesh('det-meshctl', {
      version: '1.6.0',
      releases: [
        { revision: 1, status: 'superseded', config: { environment: 'kubernetes' } },
        { revision: 2, status: 'deployed', config: { environment: 'openshift', mtls: { mode: 'strict' } } },
      ],
    });
    const deps = await testDeps();
    const inst = await detectInstall(deps, { meshNamespace: ns });
    expect(inst).toMatchObject({
      namespace: ns,
      version: '1.6.0',
      method: 'meshctl',
      release: 'nginx-service-mesh',
      releaseRevision: 2,
      releaseStatus: 'deployed',
      releaseStuck: false,
      chartVersion: '0.6.0',
      environment: 'openshift',
      values: { environment: 'openshift', mtls: { mode: 'strict' } },
      controlPlane: { deployment: 'nginx-mesh-api', image: 'docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0' },
    });
    const hinted = inst.warnings.some((w) => w.includes('security.openshift.io'));
    expect(hinted).toBe(!(await servesOpenShift()));
  });

  it('a helm install (any other release name), stuck in pending-upgrade', async () => {
    const ns = await mesh('det-helm', {
      version: '1.6.0',
      releases: [{ name: 'nsm', revision: 3, status: 'pending-upgrade', config: {} }],
    });
    const inst = await detectInstall(await testDeps(), { meshNamespace: ns });
    expect(inst).toMatchObject({
      method: 'helm',
      release: 'nsm',
      releaseRevision: 3,
      releaseStatus: 'pending-upgrade',
      releaseStuck: true,
      environment: 'kubernetes',
    });
  });

  it('a 2.0 control plane is found by nginx-mesh-controller; a disagreeing release is reported', async () => {
    const ns = await mesh('det-20', {
      version: '2.0.0',
      releases: [{ name: 'nsm', chart: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' } }],
    });
    const inst = await detectInstall(await testDeps(), { meshNamespace: ns });
    expect(inst.version).toBe('2.0.0');
    expect(inst.controlPlane?.deployment).toBe('nginx-mesh-controller');
    expect(inst.warnings.join('\n')).toMatch(/control plane runs 2\.0\.0 but Helm release nsm records chart 0\.7\.0/);
  });

  it('two releases of the chart: asks for --release, and --release / --method choose', async () => {
    const ns = await mesh('det-two', { releases: [{ name: 'nsm' }, { name: 'nginx-service-mesh' }] });
    const deps = await testDeps();
    await expect(detectInstall(deps, { meshNamespace: ns })).rejects.toThrow(/holds 2 releases/);
    const err = await detectInstall(deps, { meshNamespace: ns }).catch((e: unknown) => e);
    expect((err as UsageError).hint).toMatch(/--release NAME/);
    expect(await detectInstall(deps, { meshNamespace: ns, release: 'nsm' })).toMatchObject({
      method: 'helm',
      release: 'nsm',
    });
    const forced = await detectInstall(deps, { meshNamespace: ns, release: 'nsm', method: 'meshctl' });
    expect(forced.method).toBe('meshctl');
    expect(forced.warnings.join('\n')).toMatch(/--method meshctl overrides the detected method helm/);
    await expect(detectInstall(deps, { meshNamespace: ns, release: 'nope' })).rejects.toThrow(
      /no Helm release "nope".*found: nginx-service-mesh, nsm/,
    );
  });

  it('no Helm release: assumes nginx-meshctl and says so', async () => {
    const ns = await mesh('det-norel', { version: '1.7.0' });
    const inst = await detectInstall(await testDeps(), { meshNamespace: ns });
    expect(inst).toMatchObject({
      version: '1.7.0',
      method: 'meshctl',
      release: 'nginx-service-mesh',
      releaseStatus: undefined,
    });
    expect(inst.warnings.join('\n')).toMatch(/no Helm release of chart nginx-service-mesh/);
  });

  it('a release whose Secret is not a Helm record is reported, not fatal', async () => {
    const ns = await mesh('det-bad', { version: '1.6.0' });
    await kubectl([
      'create',
      'secret',
      'generic',
      'sh.helm.release.v1.junk.v1',
      '-n',
      ns,
      '--from-literal=release=not-a-release',
    ]);
    await kubectl(['label', 'secret', 'sh.helm.release.v1.junk.v1', '-n', ns, 'owner=helm']);
    const inst = await detectInstall(await testDeps(), { meshNamespace: ns });
    expect(inst.warnings.join('\n')).toMatch(/cannot decode Helm release Secret sh\.helm\.release\.v1\.junk\.v1/);
  });

  it('no mesh: UsageError (exit 2) naming the namespace searched and --mesh-namespace', async () => {
    const ns = uniqueName('det-none');
    const err = await detectInstall(await testDeps(), { meshNamespace: ns }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toContain(`namespace "${ns}"`);
    expect((err as UsageError).hint).toMatch(/--mesh-namespace/);
  });
});

/** A tiny chart NAMED nginx-service-mesh (namespaced objects only), so real Helm writes the release record. */
function tinyMeshChart(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-tiny-chart-'));
  fs.mkdirSync(path.join(dir, 'templates'));
  fs.writeFileSync(
    path.join(dir, 'Chart.yaml'),
    'apiVersion: v2\nname: nginx-service-mesh\nversion: 0.6.0\nappVersion: 1.6.0\n',
  );
  fs.writeFileSync(path.join(dir, 'values.yaml'), 'environment: kubernetes\nmtls:\n  mode: permissive\n');
  fs.writeFileSync(
    path.join(dir, 'templates/cm.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tiny\ndata:\n  env: {{ .Values.environment | quote }}\n',
  );
  return dir;
}

describe('detectInstall reads release records written by real Helm', () => {
  const env = clusterEnv();
  for (const key of ['HELM3', 'HELM4'] as const) {
    // Skipped (with this reason in the title) when .cluster/env does not export that helm binary.
    it(`${key}: helm install nsm with --set values`, async (ctx) => {
      ctx.skip(!env[key], `.cluster/env has no ${key} (npm run cluster:up unpacks Helm 3 and 4)`);
      const ns = await mesh(`det-${key.toLowerCase()}`, { version: '1.6.0' });
      const chart = tinyMeshChart();
      await execa(env[key]!, [
        'install',
        'nsm',
        chart,
        '-n',
        ns,
        '--kubeconfig',
        kubeconfigPath(),
        '--set',
        'environment=openshift',
        '--set',
        'mtls.mode=strict',
      ]);
      await execa(env[key]!, ['upgrade', 'nsm', chart, '-n', ns, '--kubeconfig', kubeconfigPath(), '--reuse-values']);
      const inst = await detectInstall(await testDeps(), { meshNamespace: ns });
      expect(inst).toMatchObject({
        method: 'helm',
        release: 'nsm',
        releaseRevision: 2,
        releaseStatus: 'deployed',
        chartVersion: '0.6.0',
        environment: 'openshift',
        values: { environment: 'openshift', mtls: { mode: 'strict' } },
      });
      fs.rmSync(chart, { recursive: true, force: true });
    });
  }
});
