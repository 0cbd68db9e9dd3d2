import fs from 'node:fs';
import path from 'node:path';
import { clusterEnv, repoRoot } from './cluster.ts';
import { realMeshctlVar } from '../cluster/tools.ts';

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
