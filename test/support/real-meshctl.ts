import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Kube, KubeList } from '../../src/kube/client.ts';
import { clusterEnv, kubeconfigPath, repoRoot, type ToolResult } from './cluster.ts';
import { realMeshctlVar } from '../cluster/tools.ts';
import { meshCrdsLeft, removeAllMeshes } from './mesh-scenario.ts';
import { settled } from './wait.ts';

/**
 * Which nginx-meshctl a test runs for a version: the vendor's real binary that `npm run cluster:up`
 * built from the shared source (exported in .cluster/env as MESHCTL_REAL_1_7_0, MESHCTL_REAL_2_0_0),
 * or the test bed's stand-in (test/fixtures/meshctl/<version>) where there is none (1.6.0 always).
 */
export const realVersions = ['1.7.0', '2.0.0'] as const;

export { realMeshctlVar };

export function standInMeshctl(version: string): string {
  return path.join(repoRoot, 'test/fixtures/meshctl', version, 'nginx-meshctl');
}

/** The real binary of a version, or undefined (no source, build failed, or 1.6.0). */
export function realMeshctl(version: string): string | undefined {
  const p = process.env[realMeshctlVar(version)] ?? clusterEnv()[realMeshctlVar(version)];
  return p && fs.existsSync(p) ? p : undefined;
}

/** The real binary where there is one, else the stand-in; `kind` says which, for test names and reports. */
export function meshctlFor(version: string): { bin: string; kind: 'real' | 'stand-in' } {
  const real = realMeshctl(version);
  return real ? { bin: real, kind: 'real' } : { bin: standInMeshctl(version), kind: 'stand-in' };
}

/**
 * Why a test that needs the real binaries cannot run here, or undefined when it can. CI sets
 * NSM_REQUIRE_REAL_MESHCTL=1 (conformance): then a missing binary is an error, not a skip.
 */
export function missingRealMeshctl(versions: readonly string[] = realVersions): string | undefined {
  const missing = versions.filter((v) => !realMeshctl(v));
  if (!missing.length) return undefined;
  const why = `no real nginx-meshctl ${missing.join(', ')} in .cluster/env (${missing.map(realMeshctlVar).join(', ')}): run bash test/cluster/build-meshctl.sh, then npm run cluster:up`;
  if (process.env.NSM_REQUIRE_REAL_MESHCTL === '1') throw new Error(why);
  return why;
}

/** Runs the real nginx-meshctl of a version against the test cluster (-k first, as users pass it). */
export async function runRealMeshctl(
  version: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<ToolResult & { ms: number }> {
  const bin = realMeshctl(version);
  if (!bin) throw new Error(missingRealMeshctl([version]) ?? `no real nginx-meshctl ${version}`);
  const t0 = Date.now();
  const r = await execa(bin, ['-k', kubeconfigPath(), ...args], {
    reject: false,
    input: opts.input ?? '',
    env: { ...clusterEnv() },
    timeout: opts.timeoutMs ?? 420_000,
  });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr), ms: Date.now() - t0 };
}

/**
 * Leaves no trace of any mesh, as the real `deploy` requires: every release of the nginx-service-mesh chart
 * in any namespace is uninstalled (an earlier test may leave one in a namespace still terminating), then
 * every mesh CRD goes (clearMeshCrds). Call it holding the mesh lock.
 */
export async function clearMeshTraces(kube: Kube): Promise<void> {
  await removeAllMeshes(kube);
  await clearMeshCrds(kube);
}

/**
 * Deletes every mesh CRD (labelled part-of=nginx-service-mesh) and waits until they are gone: the real
 * `deploy` refuses while any is left, and the Helm-installed meshes of other tests leave theirs
 * behind. Call it holding the mesh lock.
 */
export async function clearMeshCrds(kube: Kube, timeoutMs = 120_000): Promise<void> {
  const list = async () =>
    (
      await kube.request<KubeList>({
        path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        query: { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' },
      })
    ).items;
  for (const crd of await list())
    await kube
      .request({
        method: 'DELETE',
        path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata!.name}`,
      })
      .catch(() => undefined);
  const groups = new Set((await list()).map((c) => (c as { spec?: { group?: string } }).spec?.group ?? ''));
  const deadline = Date.now() + timeoutMs;
  const left = meshCrdsLeft(kube);
  if (!(await settled(async () => !(await left()).length, { timeoutMs }))) {
    throw new Error(
      `mesh CRDs still present after ${timeoutMs} ms: ${(await list()).map((c) => c.metadata?.name).join(', ')}`,
    );
  }
  // Discovery lags the deletion; a client that lists API groups right away (Helm in the next deploy) would
  // print "couldn't get resource list for <group>". Wait until no deleted group is advertised.
  await settled(
    async () => {
      const served = (await kube.request<{ groups: { name: string }[] }>({ path: '/apis' })).groups.map((g) => g.name);
      return !served.some((g) => groups.has(g));
    },
    { timeoutMs: Math.max(0, deadline - Date.now()) },
  );
}

/**
 * stderr without client-go's discovery noise: the real binaries create CRDs and then let Helm discover
 * the API at once, so a version still being established is logged as "couldn't get resource list for
 * <group>/<version>" (klog, memcache.go) on any cluster. Everything else stays.
 */
export function realStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/memcache\.go:\d+\] couldn't get resource list for /.test(l))
    .join('\n')
    .trim();
}
