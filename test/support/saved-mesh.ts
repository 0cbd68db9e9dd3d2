/**
 * Start from a saved mesh instead of building one (issue 24). The first test that asks for a starting mesh
 * builds it as setUpMesh does (remove every mesh, deploy with nginx-meshctl or Helm, injected workloads and
 * custom resources, rolled out), then saves the whole cluster (test/cluster/snapshot.ts). Every later test
 * that asks for the same start, in this file or another, gets the cluster put back in that saved state: the
 * very objects the deploy made (the Helm release secrets, the webhooks with their caBundle, the KWOK pods
 * Running with their sidecars), the mesh emulator restarted on them. A restore also takes away everything the
 * test before left, so there is no clean-up between tests; `leaveSavedMeshes()` (afterAll) removes the last
 * mesh as setUpMesh's clean-up does.
 *
 * "The same start" is the scenario's options and everything that shapes what the build makes: the charts,
 * the nginx-meshctl and Helm binaries, the stand-ins, the emulator, the tool's code. A change to any of them
 * is a new start, built again. Only on the local test cluster (not TEST_KUBECONFIG or kind): elsewhere, and
 * with NSM_SAVED_MESHES=0, it is setUpMesh.
 *
 * The restore puts back the whole cluster as it was saved: a test creates what it needs after it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { KubeApiError } from '../../src/kube/client.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { clusterDir, clusterEnv, repoRoot, testKube } from './cluster.ts';
import { chartsDir, removeMesh, sidecarVersions, snapshot, type Snapshot } from './mesh-scenario.ts';
import { meshctlFor } from './real-meshctl.ts';
import { binaryArgs, scenarioMeshctl, setUpMesh, type Scenario, type ScenarioOptions } from './upgrade-scenario.ts';
import { hasSnapshot, restoreCluster, saveCluster, snapshotDir } from '../cluster/snapshot.ts';
import { settled, waitFor } from './wait.ts';

/** What a saved start records besides the cluster: the names its build chose and what was there. */
interface SavedStart {
  meshNamespace: string;
  appNamespaces: string[];
  before: Snapshot;
}

/** How many saved starts a cluster keeps (about 150 MB each); the least recently used go first. */
const keep = 12;

/** The cluster directory of a scenario's cluster, or undefined when it cannot be saved and restored. */
function savableDir(opts: ScenarioOptions): string | undefined {
  if (process.env.TEST_KUBECONFIG || process.env.NSM_SAVED_MESHES === '0') return undefined;
  const dir = opts.cluster ? path.dirname(opts.cluster.kubeconfig) : clusterDir;
  return fs.existsSync(path.join(dir, 'state.json')) ? dir : undefined;
}

function hashTree(hash: ReturnType<typeof createHash>, p: string): void {
  if (!fs.existsSync(p)) return;
  if (fs.statSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) hashTree(hash, path.join(p, e));
  } else {
    hash
      .update(`${path.relative(repoRoot, p)}\0`)
      .update(fs.readFileSync(p))
      .update('\0');
  }
}

let inputs: string | undefined;
/** The code and data that shape a built mesh (hashed once per test file). */
function inputsHash(): string {
  if (inputs) return inputs;
  const h = createHash('sha256');
  for (const p of [
    'src',
    'test/emulator',
    'test/fixtures/meshctl',
    'test/fixtures/charts',
    'test/cluster',
    'test/support/mesh-scenario.ts',
    'test/support/upgrade-scenario.ts',
    'test/support/real-meshctl.ts',
    'test/support/saved-mesh.ts',
  ])
    hashTree(h, path.join(repoRoot, p));
  hashTree(h, chartsDir);
  inputs = h.digest('hex');
  return inputs;
}

/** The name of a start: its options, the binaries its build runs, and the inputs. */
export function startKey(opts: ScenarioOptions): string {
  const { cluster, ...rest } = opts;
  const bins = {
    meshctl:
      opts.method === 'meshctl'
        ? opts.realMeshctl
          ? meshctlFor(opts.from).bin
          : scenarioMeshctl(opts.from)
        : undefined,
    helm: opts.method === 'helm' ? clusterEnv()[opts.helm ?? 'HELM3'] : undefined,
    charts: chartsDir,
  };
  const h = createHash('sha256').update(
    JSON.stringify({ rest, kubeconfig: cluster?.kubeconfig, bins, inputs: inputsHash() }),
  );
  return `${opts.method}-${opts.from}-${h.digest('hex').slice(0, 16)}`;
}

/** The clean-up setUpMesh's scenario does, for a restored one: the mesh, its namespace, the app namespaces. */
function cleanupOf(s: Omit<Scenario, 'cleanup'>, kubeconfig?: string): () => Promise<void> {
  return async () => {
    await removeMesh(s.kube, s.meshNamespace, kubeconfig);
    for (const ns of s.appNamespaces)
      await s.kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
    await settled(
      () =>
        s.kube.request({ path: `/api/v1/namespaces/${s.meshNamespace}` }).then(
          () => false,
          () => true,
        ),
      { timeoutMs: 120_000 },
    );
  };
}

/** The mesh each cluster holds from the last saved-mesh test, and how to remove it (run by the next build or leaveSavedMeshes). */
const left = new Map<string, () => Promise<void>>();

function prune(dir: string): void {
  const root = path.join(dir, 'snapshots');
  if (!fs.existsSync(root)) return;
  const saved = fs
    .readdirSync(root)
    .map((n) => ({ n, t: fs.statSync(path.join(root, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const s of saved.slice(keep)) fs.rmSync(path.join(root, s.n), { recursive: true, force: true });
}

/** A fresh backup directory for each test, as setUpMesh makes. */
const newBackupDir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-upgrade-test-')), 'backup');

/**
 * Checks the restored cluster holds the start that was saved (control plane version, every sidecar on it,
 * every custom resource as it was) and that the mesh answers: 1.x's aggregated API is available again.
 */
async function expectRestored(s: Omit<Scenario, 'cleanup'>, from: string): Promise<void> {
  expect((await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace })).version).toBe(from);
  expect(await sidecarVersions(s.kube, s.appNamespaces)).toEqual({ [from]: s.appNamespaces.length * 2 });
  expect(await snapshot(s.kube, s.appNamespaces)).toEqual(s.before);
  await waitFor(
    'the mesh API (APIService v1alpha1.nsm.nginx.com) to be available again',
    async () => {
      try {
        const api = await s.kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>({
          path: '/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.nsm.nginx.com',
        });
        return api.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return true; // 2.0 has none
        throw err;
      }
    },
    { timeoutMs: 120_000 },
  );
}

/** setUpMesh, from a saved start when there is one (see above). The scenario's clean-up leaves the mesh for the next restore. */
export async function setUpSavedMesh(opts: ScenarioOptions): Promise<Scenario> {
  const dir = savableDir(opts);
  if (!dir) return setUpMesh(opts);
  const key = startKey(opts);
  const kube = opts.cluster?.kube ?? (await testKube());
  const record = path.join(snapshotDir(dir, key), 'start.json');
  let s: Omit<Scenario, 'cleanup'>;
  if (hasSnapshot(dir, key) && fs.existsSync(record)) {
    left.delete(dir);
    await restoreCluster(dir, key);
    const saved = JSON.parse(fs.readFileSync(record, 'utf8')) as SavedStart;
    s = { kube, ...saved, backupDir: newBackupDir(), binaryArgs: binaryArgs(opts) };
    await expectRestored(s, opts.from);
  } else {
    await left.get(dir)?.();
    left.delete(dir);
    s = withoutCleanup(await setUpMesh(opts));
    prune(dir);
    await saveCluster(dir, key);
    const saved: SavedStart = { meshNamespace: s.meshNamespace, appNamespaces: s.appNamespaces, before: s.before };
    fs.writeFileSync(record, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
  }
  const cleanup = cleanupOf(s, opts.cluster?.kubeconfig);
  return {
    ...s,
    async cleanup() {
      left.set(dir, cleanup);
    },
  };
}

/** Removes the meshes the last saved-mesh tests left (call it in afterAll of a file that uses setUpSavedMesh). */
export async function leaveSavedMeshes(): Promise<void> {
  const all = [...left.values()];
  left.clear();
  await Promise.all(all.map((c) => c()));
}

/** A scenario without its clean-up (the saved mesh's clean-up waits for the next test). */
function withoutCleanup(s: Scenario): Omit<Scenario, 'cleanup'> {
  const { cleanup: _cleanup, ...rest } = s;
  return rest;
}
