/**
 * Rollback scenarios: what "as before the upgrade" means, captured before the upgrade and compared
 * after the rollback: the control plane's version, the release's values, the mesh CRDs (names and
 * versions, served and storage), every custom resource, every sidecar's version.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core } from '../../src/kube/paths.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { revealDeep } from '../../src/secret.ts';
import { runTool, type ToolResult } from './cluster.ts';
import { chartsDir, sidecarVersions, snapshot } from './mesh-scenario.ts';
import { expectConverged, runUpgrade, setUpMesh, type Scenario, type ScenarioOptions } from './upgrade-scenario.ts';

export interface MeshState {
  version: string;
  values: unknown;
  crds: Record<string, unknown>;
  resources: unknown;
  sidecars: Record<string, number>;
}

export async function meshState(s: Scenario): Promise<MeshState> {
  const install = await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace });
  const crds = await listAll<{
    metadata?: { name?: string };
    spec?: { versions?: { name: string; served: boolean; storage: boolean }[] };
  }>(s.kube, collectionPath(core.crds), { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' });
  return {
    version: install.version,
    values: revealDeep(install.values),
    crds: Object.fromEntries(
      crds
        .map((c) => [
          c.metadata?.name,
          (c.spec?.versions ?? []).map((v) => ({ name: v.name, served: v.served, storage: v.storage })),
        ])
        .sort(),
    ),
    resources: await snapshot(s.kube, s.appNamespaces),
    sidecars: await sidecarVersions(s.kube, s.appNamespaces),
  };
}

/** The cluster is as it was before the upgrade. */
export async function expectStateBack(s: Scenario, before: MeshState): Promise<void> {
  const now = await meshState(s);
  expect(now.version).toBe(before.version);
  expect(now.crds).toEqual(before.crds);
  expect(now.resources).toEqual(before.resources);
  expect(now.values).toEqual(before.values);
  expect(now.sidecars).toEqual(before.sidecars);
}

/** A rollback of the scenario's run, with its binaries and chart (never taken from the run's journal). */
export function rollbackArgs(s: Scenario, extra: string[] = []): string[] {
  return ['rollback', '--from', s.backupDir, '--yes', '--timeout', '3m', ...s.binaryArgs, ...extra];
}

export function runRollback(s: Scenario, extra: string[] = []): Promise<ToolResult> {
  return runTool(rollbackArgs(s, extra), { env: { NSM_CHARTS_DIR: chartsDir } });
}

/** The steps the rollback journaled as done, in order. */
export function rollbackSteps(s: Scenario): string[] {
  const file = path.join(s.backupDir, 'rollback', 'journal.ndjson');
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step?: string })
    .filter((r) => r.type === 'step')
    .map((r) => r.step!);
}

/** A mesh at `o.from`, its state recorded, then upgraded to `o.to` and converged: where each rollback test starts. */
export async function upgradedMesh(
  o: ScenarioOptions & { to: string },
): Promise<{ scenario: Scenario; before: MeshState }> {
  const scenario = await setUpMesh(o);
  const before = await meshState(scenario);
  const up = await runUpgrade(scenario, o);
  expect(up.exitCode, up.stderr + up.stdout).toBe(0);
  await expectConverged(scenario, o.to);
  return { scenario, before };
}
