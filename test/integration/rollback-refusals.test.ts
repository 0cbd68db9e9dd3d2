/**
 * `rollback` refuses (exit 3, nothing changed) when going back would lose something, naming it:
 * an object created after the upgrade in a kind or a version the old CRDs cannot hold, a change to
 * 2.0's MeshConfig that 1.x has no setting for, a backup that fails verification (which --force
 * does not pass). One mesh, upgraded 1.7.0 -> 2.0.0 in place, serves every case in turn; the last
 * test fixes them and rolls back, carrying a MeshConfig change that 1.x does have a setting for.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectConverged,
  runUpgrade,
  setUpMesh,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { meshState, runRollback, type MeshState } from '../support/rollback-scenario.ts';
import { detectInstall } from '../../src/mesh/detect.ts';

const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.7.0', to: '2.0.0', optIn: true };
let s: Scenario;
let before: MeshState;

const meshConfigs = (ns: string) => `/apis/nsm.nginx.com/v1alpha2/namespaces/${ns}/meshconfigs`;
const cbCrd = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/circuitbreakers.specs.smi.nginx.com';

/** A refused rollback: exit 3, the message names `what`, and nothing changed (state, no rollback directory). */
async function expectRefused(what: RegExp, extra: string[] = []): Promise<void> {
  const now = await meshState(s);
  const r = await runRollback(s, extra);
  expect(r.exitCode, r.stderr + r.stdout).toBe(3);
  expect(r.stderr).toMatch(what);
  expect(fs.existsSync(path.join(s.backupDir, 'rollback'))).toBe(false);
  expect(await meshState(s)).toEqual(now);
}

beforeAll(async () => {
  s = await setUpMesh(o);
  before = await meshState(s);
  const up = await runUpgrade(s, o);
  expect(up.exitCode, up.stderr).toBe(0);
  await expectConverged(s, '2.0.0');
});
afterAll(async () => {
  await s?.cleanup();
});

describe('rollback refusals (in order, on one mesh)', () => {
  it('an object created after the upgrade in a kind the old CRDs lack (a second MeshConfig)', async () => {
    const ns = s.appNamespaces[0]!;
    await s.kube.request({
      method: 'POST',
      path: meshConfigs(ns),
      body: {
        apiVersion: 'nsm.nginx.com/v1alpha2',
        kind: 'MeshConfig',
        metadata: { name: 'team-config' },
        spec: { meshConfigClassName: 'team-class', accessControlMode: 'deny' },
      },
    });
    await expectRefused(
      new RegExp(
        `MeshConfig ${ns}/team-config was created after the upgrade and NSM 1\\.7\\.0's CRDs cannot hold it: its kind has no CRD`,
      ),
    );
    await s.kube.request({ method: 'DELETE', path: `${meshConfigs(ns)}/team-config` });
  });

  it('an object created after the upgrade in a version the old CRDs do not serve', async () => {
    // The CRD now serves only v1beta1 (stored there); NSM 1.7.0's serves v1alpha1 alone.
    const crd = await s.kube.request<{
      spec: { versions: { name: string; served: boolean; storage: boolean; schema: unknown }[] };
    }>({ path: cbCrd });
    const v1 = crd.spec.versions[0]!;
    await s.kube.request({
      method: 'PATCH',
      path: cbCrd,
      contentType: 'application/merge-patch+json',
      body: {
        spec: {
          versions: [
            { ...v1, served: false, storage: false },
            { ...v1, name: 'v1beta1', served: true, storage: true },
          ],
        },
      },
    });
    const ns = s.appNamespaces[1]!;
    const create = async () =>
      s.kube.request({
        method: 'POST',
        path: `/apis/specs.smi.nginx.com/v1beta1/namespaces/${ns}/circuitbreakers`,
        body: {
          apiVersion: 'specs.smi.nginx.com/v1beta1',
          kind: 'CircuitBreaker',
          metadata: { name: 'cb-new' },
          spec: { destination: { kind: 'Service', name: 'backend', namespace: ns }, errors: 2, timeoutSeconds: 10 },
        },
      });
    for (let i = 0; ; i++) {
      try {
        await create();
        break;
      } catch (err) {
        if (i > 40) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await expectRefused(
      new RegExp(
        `CircuitBreaker ${ns}/cb-new was created after the upgrade and NSM 1\\.7\\.0's CRDs cannot hold it: the old CRD does not serve v1beta1`,
      ),
    );
    await s.kube.request({
      method: 'DELETE',
      path: `/apis/specs.smi.nginx.com/v1beta1/namespaces/${ns}/circuitbreakers/cb-new`,
    });
    await s.kube.request({
      method: 'PATCH',
      path: cbCrd,
      contentType: 'application/merge-patch+json',
      body: {
        spec: {
          versions: [
            { ...v1, served: true, storage: true },
            { ...v1, name: 'v1beta1', served: false, storage: false },
          ],
        },
      },
    });
  });

  it('a MeshConfig change after the 2.0 hop that 1.x has no setting for', async () => {
    const path_ = `${meshConfigs(s.meshNamespace)}/nginx-mesh-config`;
    await s.kube.request({
      method: 'PATCH',
      path: path_,
      contentType: 'application/merge-patch+json',
      body: { spec: { meshConfigClassName: 'custom-class' } },
    });
    await expectRefused(
      /MeshConfig nginx-mesh-config was changed after the upgrade \(meshConfigClassName="custom-class"\) and NSM 1\.7\.0 has no setting for it/,
    );
    await s.kube.request({
      method: 'PATCH',
      path: path_,
      contentType: 'application/merge-patch+json',
      body: { spec: { meshConfigClassName: `${s.meshNamespace}-meshconfig-class` } },
    });
  });

  it('a backup that fails verification, with or without --force (a changed file; a changed file with its hash rewritten)', async () => {
    const file = path.join(s.backupDir, 'hop1', 'resources', 'trafficsplits.split.smi-spec.io.yaml');
    const manifestFile = path.join(s.backupDir, 'hop1', 'manifest.json');
    const original = fs.readFileSync(file, 'utf8');
    const originalManifest = fs.readFileSync(manifestFile, 'utf8');
    const tampered = original.replace('weight: 80', 'weight: 99');
    expect(tampered).not.toBe(original);
    fs.writeFileSync(file, tampered);
    await expectRefused(/trafficsplits\.split\.smi-spec\.io\.yaml: sha256/);
    await expectRefused(/fails verification/, ['--force']);
    // Consistent tampering: the manifest's hash rewritten to match. The journal's record of the manifest catches it.
    const manifest = JSON.parse(originalManifest) as { files: { path: string; sha256: string }[] };
    const { createHash } = await import('node:crypto');
    manifest.files.find((f) => f.path.endsWith('trafficsplits.split.smi-spec.io.yaml'))!.sha256 = createHash('sha256')
      .update(tampered)
      .digest('hex');
    fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
    await expectRefused(/manifest\.json is not the one the run wrote/, ['--force']);
    fs.writeFileSync(file, original);
    fs.writeFileSync(manifestFile, originalManifest);
  });

  it('with every cause fixed the rollback runs, carrying a MeshConfig change 1.x has a setting for', async () => {
    await s.kube.request({
      method: 'PATCH',
      path: `${meshConfigs(s.meshNamespace)}/nginx-mesh-config`,
      contentType: 'application/merge-patch+json',
      body: { spec: { accessControlMode: 'deny' } },
    });
    const dry = await runRollback(s, ['--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/accessControlMode="deny"/);
    const r = await runRollback(s);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const after = await meshState(s);
    expect(after.version).toBe('1.7.0');
    expect(after.resources).toEqual(before.resources);
    expect(after.sidecars).toEqual(before.sidecars);
    expect(after.values).toEqual({ ...(before.values as object), accessControlMode: 'deny' });
    expect(
      (await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace })).values.accessControlMode,
    ).toBe('deny');
  });
});
