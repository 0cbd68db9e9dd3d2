import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  expectConverged,
  expectSettingsKept,
  nonDefaultFlags,
  runUpgrade,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { leaveSavedMeshes, setUpSavedMesh } from '../support/saved-mesh.ts';
import { clusterEnv } from '../support/cluster.ts';
import { snapshot, sidecarVersions } from '../support/mesh-scenario.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { valueAt } from '../../src/values.ts';

// Full upgrades through every path the NSM docs describe, on the real API server with the mesh emulator
// injecting sidecars: against the real charts and, for 1.7.0 and 2.0.0, the vendor's real nginx-meshctl
// when ../shared has them (the conformance project: NSM_SCENARIO_REAL_MESHCTL=1; 1.6.0 stays the
// stand-in), else with the test bed's stand-ins and fixture charts.
// Each starting mesh is built once and saved; a test that starts from the same one gets it restored
// (test/support/saved-mesh.ts), so the tests below share starts where they can.
let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});
afterAll(leaveSavedMeshes);

function journalSteps(dir: string): string[] {
  return fs
    .readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step?: string })
    .filter((r) => r.type === 'step')
    .map((r) => r.step!);
}

describe('upgrade paths', () => {
  it('meshctl in place 1.6.0 -> 1.7.0: CRs untouched, control plane and sidecars on 1.7.0', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o);
    expect(r.stderr + r.stdout).not.toMatch(/error:/);
    expect(r.exitCode).toBe(0);
    expect(journalSteps(current.backupDir)).toEqual(['hop1.backup', 'hop1.upgrade', 'hop1.restart', 'hop1.verify']);
    await expectConverged(current, '1.7.0');
  });

  it.each(['HELM3', 'HELM4'] as const)(
    'helm in place 1.6.0 -> 1.7.0 with %s: CRDs applied first, then helm upgrade',
    async (helm) => {
      const o: ScenarioOptions & { to: string } = { method: 'helm', from: '1.6.0', to: '1.7.0', helm };
      current = await setUpSavedMesh(o);
      const r = await runUpgrade(current, o);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(journalSteps(current.backupDir)).toEqual([
        'hop1.backup',
        'hop1.apply-crds',
        'hop1.upgrade',
        'hop1.restart',
        'hop1.verify',
      ]);
      await expectConverged(current, '1.7.0');
    },
  );

  it('meshctl manual with a changed deploy flag: removed, redeployed with the change, CRs restored', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o, ['--deploy-flag', 'mtls-mode=strict']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(journalSteps(current.backupDir)).toEqual([
      'hop1.backup',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ]);
    await expectConverged(current, '1.7.0');
    const install = await detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace });
    expect(JSON.stringify(install.values)).toMatch(/strict/);
  });

  // Also what carried-settings.test.ts checked on its own mesh: settings changed with --deploy-flag arrive in
  // the new release and in MeshConfig nginx-mesh-config, and verify checks them.
  it('meshctl manual 1.7.0 -> 2.0.0 with non-default settings and --deploy-flag changes: each carried to the 2.0 mesh (release and MeshConfig) and checked there', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.7.0',
      to: '2.0.0',
      optIn: true,
      deployFlags: [
        '--mtls-mode',
        'strict',
        '--nginx-lb-method',
        'random',
        '--client-max-body-size',
        '8m',
        '--nginx-error-log-level',
        'debug',
      ],
    };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o, [
      '--strategy',
      'manual',
      '--deploy-flag',
      'nginx-error-log-level=warn',
      '--deploy-flag',
      'enable-udp=true',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(journalSteps(current.backupDir)).toEqual([
      'hop1.backup',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ]);
    expect(r.stdout + r.stderr).toMatch(/carried settings checked/);
    await expectConverged(current, '2.0.0');
    const install = await detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace });
    expect(install.values).toMatchObject({
      mtls: { mode: 'strict' },
      nginxLBMethod: 'random',
      clientMaxBodySize: '8m',
      nginxErrorLogLevel: 'warn',
      enableUDP: true,
    });
    const mc = await current.kube.request<{ spec: Record<string, unknown> }>({
      path: `/apis/nsm.nginx.com/v1alpha2/namespaces/${current.meshNamespace}/meshconfigs/nginx-mesh-config`,
    });
    expect([
      valueAt(mc.spec, 'mtls.mode'),
      valueAt(mc.spec, 'nginxErrorLogLevel'),
      valueAt(mc.spec, 'clientMaxBodySize'),
    ]).toEqual(['strict', 'warn', '8m']);
  });

  it('helm manual (--strategy manual): uninstall, CRDs deleted, install with carried-over values, CRs restored', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'helm', from: '1.6.0', to: '1.7.0', helm: 'HELM3' };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o, ['--strategy', 'manual']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(journalSteps(current.backupDir)).toEqual([
      'hop1.backup',
      'hop1.remove',
      'hop1.delete-crds',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ]);
    await expectConverged(current, '1.7.0');
  });

  it('OpenShift 1.6.0 -> 1.7.0 is manual and waits for the CSI sentinel Job to be deleted', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
      deployFlags: nonDefaultFlags,
    };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/csi-driver-sentinel/);
    await expectSettingsKept(current);
    expect(journalSteps(current.backupDir)).toEqual([
      'hop1.backup',
      'hop1.remove',
      'hop1.restart-unmeshed',
      'hop1.wait-sentinel',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ]);
    await expectConverged(current, '1.7.0');
  });

  it('refuses --strategy in-place for 1.6 -> 1.7 on OpenShift (exit 2, nothing changed)', async () => {
    // The OpenShift test's start (its settings play no part in the refusal).
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
      deployFlags: nonDefaultFlags,
    };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o, ['--strategy', 'in-place']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--strategy/);
    expect(fs.existsSync(current.backupDir)).toBe(false);
    expect(
      (await detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace })).version,
    ).toBe('1.6.0');
  });

  it('two hops 1.6.0 -> 1.7.0 -> 2.0.0 warns about the opt-in label and, with --label-namespaces, keeps every sidecar', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '2.0.0',
      deployFlags: nonDefaultFlags,
    };
    current = await setUpSavedMesh(o);
    const plan = await runUpgrade(current, o, ['--dry-run']);
    expect(plan.exitCode).toBe(0);
    for (const ns of current.appNamespaces) expect(plan.stdout + plan.stderr).toContain(ns);
    expect(plan.stdout + plan.stderr).toMatch(/--label-namespaces/);
    const r = await runUpgrade(current, o, ['--label-namespaces']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(journalSteps(current.backupDir)).toContain('hop2.label-namespaces');
    await expectConverged(current, '2.0.0');
    await expectSettingsKept(current);
  });

  it('--dry-run prints the steps and exact commands and changes nothing', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'helm', from: '1.6.0', to: '1.7.0', helm: 'HELM4' };
    current = await setUpSavedMesh(o);
    const r = await runUpgrade(current, o, ['--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('hop1.upgrade');
    expect(r.stdout).toContain(`${clusterEnv().HELM4} upgrade nsm`);
    expect(r.stderr).toMatch(/nothing was changed/i);
    expect(fs.existsSync(current.backupDir)).toBe(false);
    expect(
      (await detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace })).version,
    ).toBe('1.6.0');
    expect(await snapshot(current.kube, current.appNamespaces)).toEqual(current.before);
    expect(await sidecarVersions(current.kube, current.appNamespaces)).toEqual({ '1.6.0': 4 });
  });
});
