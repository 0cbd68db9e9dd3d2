/**
 * One upgrade scenario on the test cluster: a mesh at `from`, injected workloads and custom
 * resources in a few namespaces, then the real CLI, then the end state checked against what
 * was there before (custom resources equal, control plane and every sidecar on the target).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Kube } from '../../src/kube/client.ts';
import { clusterEnv, runTool, testKube, uniqueName, type ToolResult } from './cluster.ts';
import { meshctlFor } from './real-meshctl.ts';
import {
  removeAllMeshes,
  deployWithHelm,
  deployWithMeshctl,
  meshctlBin,
  populate,
  removeMesh,
  sidecarVersions,
  snapshot,
  waitRolledOut,
  type Snapshot,
  chartsDir,
} from './mesh-scenario.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { settled } from './wait.ts';

export interface Scenario {
  kube: Kube;
  meshNamespace: string;
  appNamespaces: string[];
  before: Snapshot;
  backupDir: string;
  /** The flags that give the tool the scenario's binaries and chart (a resume and a rollback pass them again). */
  binaryArgs: string[];
  cleanup(): Promise<void>;
}

export interface ScenarioOptions {
  method: 'meshctl' | 'helm';
  from: string;
  environment?: 'kubernetes' | 'openshift';
  /** Helm binary for the helm method (HELM3 or HELM4 from .cluster/env). */
  helm?: 'HELM3' | 'HELM4';
  /** Label the app namespaces for 2.0's opt-in injection up front. */
  optIn?: boolean;
  namespaces?: number;
  /** nginx-meshctl deploy flags of the starting install (non-default settings the upgrade must carry). */
  deployFlags?: string[];
  /** helm --set values of the starting install (helm method). */
  helmSet?: Record<string, string>;
  /** Another cluster (the fleet tests' second one): its API client and its own kubeconfig. Default: the test cluster. */
  cluster?: { kube: Kube; kubeconfig: string };
  /** The mesh namespace (default: a unique name). */
  meshNamespace?: string;
  /** Deploy with the vendor's real nginx-meshctl (the caller checks it is there), whatever NSM_SCENARIO_REAL_MESHCTL says. */
  realMeshctl?: boolean;
}

async function waitGone(kube: Kube, namespace: string): Promise<void> {
  await settled(
    () =>
      kube.request({ path: `/api/v1/namespaces/${namespace}` }).then(
        () => false,
        () => true,
      ),
    { timeoutMs: 120_000 },
  );
}

export async function setUpMesh(opts: ScenarioOptions): Promise<Scenario> {
  const kube = opts.cluster?.kube ?? (await testKube());
  const kubeconfig = opts.cluster?.kubeconfig;
  await removeAllMeshes(kube, kubeconfig);
  const meshNamespace = opts.meshNamespace ?? uniqueName('mesh');
  const appNamespaces = Array.from({ length: opts.namespaces ?? 2 }, (_, i) => uniqueName(`app${i}`));
  if (opts.method === 'meshctl') {
    const bin = opts.realMeshctl ? meshctlFor(opts.from).bin : scenarioMeshctl(opts.from);
    await deployWithMeshctl(opts.from, {
      namespace: meshNamespace,
      environment: opts.environment ?? 'kubernetes',
      flags: opts.deployFlags,
      bin,
      kubeconfig,
    });
  } else {
    await deployWithHelm(clusterEnv()[opts.helm ?? 'HELM3']!, opts.from, {
      release: 'nsm',
      namespace: meshNamespace,
      set: { environment: opts.environment ?? 'kubernetes', ...opts.helmSet },
    });
  }
  await populate(kube, appNamespaces, { optIn: opts.optIn });
  await waitRolledOut(appNamespaces, kubeconfig);
  const versions = await sidecarVersions(kube, appNamespaces);
  expect(versions).toEqual({ [opts.from]: appNamespaces.length * 2 });
  const before = await snapshot(kube, appNamespaces);
  expect(Object.keys(before)).toHaveLength(appNamespaces.length * 6);
  const backupDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-upgrade-test-')), 'backup');
  return {
    kube,
    meshNamespace,
    appNamespaces,
    before,
    backupDir,
    binaryArgs: binaryArgs(opts),
    async cleanup() {
      await removeMesh(kube, meshNamespace, kubeconfig);
      for (const ns of appNamespaces)
        await kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
      await waitGone(kube, meshNamespace);
    },
  };
}

/**
 * The nginx-meshctl a scenario hands the tool for a version: the stand-in, or with
 * NSM_SCENARIO_REAL_MESHCTL=1 the vendor's real binary where cluster:up built one (1.7.0, 2.0.0).
 * Off by default until the tool handles what the real binaries do differently (see the test bed README).
 */
export function scenarioMeshctl(version: string): string {
  return process.env.NSM_SCENARIO_REAL_MESHCTL === '1' ? meshctlFor(version).bin : meshctlBin(version);
}

/**
 * The binaries and chart of a scenario as flags: every nginx-meshctl as --meshctl (each says its own
 * version), or helm and the charts. A resume or a rollback finds binaries only as a fresh run does
 * (flags, then PATH), never from a journal: they pass these again.
 */
export function binaryArgs(opts: Pick<ScenarioOptions, 'method' | 'helm'>): string[] {
  if (opts.method === 'meshctl') return ['1.6.0', '1.7.0', '2.0.0'].flatMap((v) => ['--meshctl', scenarioMeshctl(v)]);
  return ['--helm', clusterEnv()[opts.helm ?? 'HELM3']!, '--chart', chartsDir];
}

/** The flags every scenario passes: its mesh namespace, its binaries, its backup directory. */
export function toolArgs(s: Scenario, opts: ScenarioOptions & { to: string }, extra: string[] = []): string[] {
  const args = [
    '--to',
    opts.to,
    '--mesh-namespace',
    s.meshNamespace,
    '--backup-dir',
    s.backupDir,
    '--yes',
    '--timeout',
    '3m',
  ];
  if (opts.method === 'meshctl') {
    args.push('--meshctl-current', scenarioMeshctl(opts.from));
    for (const v of ['1.6.0', '1.7.0', '2.0.0']) if (v !== opts.from) args.push('--meshctl', scenarioMeshctl(v));
  } else {
    args.push(...binaryArgs(opts));
  }
  return [...args, ...extra];
}

/** The binary and chart flags of a command line, to give them again (a resume or rollback never takes them from a journal). */
export function binaryFlagsOf(args: readonly string[]): string[] {
  return args.flatMap((a, i) =>
    ['--meshctl', '--meshctl-current', '--helm', '--chart'].includes(a) ? [a, args[i + 1]!] : [],
  );
}

/** `--resume` of the scenario's run, with its binaries given again (a resume never takes them from the journal). */
export function resumeArgs(s: Scenario, extra: string[] = []): string[] {
  return ['--resume', s.backupDir, '--yes', '--timeout', '3m', ...s.binaryArgs, ...extra];
}

export async function runUpgrade(
  s: Scenario,
  opts: ScenarioOptions & { to: string },
  extra: string[] = [],
): Promise<ToolResult> {
  return runTool(toolArgs(s, opts, extra), {
    env: { NSM_CHARTS_DIR: chartsDir, NSM_HELM: clusterEnv().HELM3 ?? 'helm' },
  });
}

/** Non-default settings a scenario's starting mesh is deployed with, and what its release then records. */
export const nonDefaultFlags = [
  '--mtls-mode',
  'strict',
  '--client-max-body-size',
  '8m',
  '--nginx-error-log-level',
  'debug',
];
export const nonDefaultValues = { mtls: { mode: 'strict' }, clientMaxBodySize: '8m', nginxErrorLogLevel: 'debug' };

/** Every non-default setting of the starting mesh is on the upgraded mesh's release. */
export async function expectSettingsKept(s: Scenario): Promise<void> {
  const install = await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace });
  expect(install.values).toMatchObject(nonDefaultValues);
}

/** The end state every successful upgrade must reach. */
export async function expectConverged(s: Scenario, to: string): Promise<void> {
  const install = await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace });
  expect(install.version).toBe(to);
  expect(await snapshot(s.kube, s.appNamespaces)).toEqual(s.before);
  expect(await sidecarVersions(s.kube, s.appNamespaces)).toEqual({ [to]: s.appNamespaces.length * 2 });
}
