/**
 * Upgrade, then `rollback`: the cluster ends as it was before the upgrade (control plane version,
 * release values, CRD versions, every custom resource, every sidecar's version), through the
 * install method it had. The meshctl scenario runs the vendor's real nginx-meshctl 1.7.0 and 2.0.0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nonDefaultFlags, type Scenario, type ScenarioOptions } from '../support/upgrade-scenario.ts';
import { expectStateBack, meshState, rollbackSteps, runRollback, upgradedMesh } from '../support/rollback-scenario.ts';
import { missingRealMeshctl } from '../support/real-meshctl.ts';

let current: Scenario | undefined;
let realBefore: string | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  if (realBefore === undefined) delete process.env.NSM_SCENARIO_REAL_MESHCTL;
  else process.env.NSM_SCENARIO_REAL_MESHCTL = realBefore;
});

describe('rollback after an upgrade', () => {
  it.each(['HELM3', 'HELM4'] as const)(
    'helm in place 1.6.0 -> 1.7.0 with %s, then rollback: helm rollback, everything as before',
    async (helm) => {
      const o: ScenarioOptions & { to: string } = {
        method: 'helm',
        from: '1.6.0',
        to: '1.7.0',
        helm,
        helmSet: { accessControlMode: 'deny', nginxErrorLogLevel: 'debug' },
      };
      const { scenario, before } = await upgradedMesh(o);
      current = scenario;

      const dry = await runRollback(current, ['--dry-run']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/rollback nsm 1 -n /);
      expect((await meshState(current)).version).toBe('1.7.0');

      const rb = await runRollback(current);
      expect(rb.exitCode, rb.stderr + rb.stdout).toBe(0);
      expect(rollbackSteps(current)).toEqual([
        'hop1.snapshot',
        'hop1.helm-rollback',
        'hop1.restore-crds',
        'hop1.restore-resources',
        'hop1.restart',
        'hop1.verify-rollback',
      ]);
      await expectStateBack(current, before);
    },
  );

  it('meshctl in place 1.7.0 -> 2.0.0 (real nginx-meshctl), then rollback: removed with 2.0.0, deployed with 1.7.0 and the old settings', async (ctx) => {
    const missing = missingRealMeshctl(['1.7.0', '2.0.0']);
    ctx.skip(missing !== undefined, missing ?? '');
    realBefore = process.env.NSM_SCENARIO_REAL_MESHCTL;
    process.env.NSM_SCENARIO_REAL_MESHCTL = '1';
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.7.0',
      to: '2.0.0',
      optIn: true,
      deployFlags: ['--mtls-mode', 'strict', '--nginx-lb-method', 'random', '--client-max-body-size', '8m'],
    };
    const { scenario, before } = await upgradedMesh(o);
    current = scenario;

    const rb = await runRollback(current);
    expect(rb.exitCode, rb.stderr + rb.stdout).toBe(0);
    expect(rollbackSteps(current)).toEqual([
      'hop1.snapshot',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current, before);
  });

  it('manual OpenShift 1.6.0 -> 1.7.0, then rollback: out of the mesh for the CSI sentinel, 1.6.0 deployed, workloads back in the mesh', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
      deployFlags: nonDefaultFlags,
    };
    const { scenario, before } = await upgradedMesh(o);
    current = scenario;

    const rb = await runRollback(current);
    expect(rb.exitCode, rb.stderr + rb.stdout).toBe(0);
    expect(rb.stdout + rb.stderr).toMatch(/csi-driver-sentinel/);
    expect(rollbackSteps(current)).toEqual([
      'hop1.snapshot',
      'hop1.remove',
      'hop1.restart-unmeshed',
      'hop1.wait-sentinel',
      'hop1.deploy',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current, before);
  });

  it("two hops 1.6.0 -> 1.7.0 -> 2.0.0, then rollback --all-hops: straight back to 1.6.0 from the first hop's backup", async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '2.0.0',
      deployFlags: nonDefaultFlags,
      optIn: true,
    };
    const { scenario, before } = await upgradedMesh(o);
    current = scenario;

    const dry = await runRollback(current, ['--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/2\.0\.0 -> 1\.7\.0, back to before hop 2/);
    const rb = await runRollback(current, ['--all-hops']);
    expect(rb.exitCode, rb.stderr + rb.stdout).toBe(0);
    expect(rollbackSteps(current)).toEqual([
      'hop1.snapshot',
      'hop1.remove',
      'hop1.deploy',
      'hop1.restore-crds',
      'hop1.restore-resources',
      'hop1.restart',
      'hop1.verify-rollback',
    ]);
    await expectStateBack(current, before);
  });
});
