/**
 * Finds the nginx-meshctl binary of each version a plan needs, from --meshctl (given once per
 * hop, or a directory of binaries named by version) and --meshctl-current (the installed
 * version's, used to remove). The matching is pure (`matchMeshctlBinaries`); `resolveMeshctlBinaries`
 * adds the file-system look-ups and `nginx-meshctl version` calls.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { meshctlVersion, parseMeshctlVersion } from '../controlplane/meshctl.ts';

/** What the caller learned about one --meshctl/--meshctl-current argument. */
export type GivenBinary =
  | { kind: 'dir'; path: string; /** Version -> binary path found inside (nginx-meshctl-<v> or <v>/nginx-meshctl). */ found: Record<string, string> }
  | { kind: 'file'; path: string; /** From `nginx-meshctl version`; undefined when it did not say. */ version: string | undefined };

/** The names a directory may hold a version's binary under, in preference order. */
export function candidateNames(dir: string, version: string): string[] {
  return [path.join(dir, `nginx-meshctl-${version}`), path.join(dir, version, 'nginx-meshctl')];
}

/**
 * Maps versions to binaries. Files whose version is known go to that version; files that did not
 * say are assigned, in order, to the hop targets still missing ("--meshctl once per hop");
 * directories fill whatever they hold. --meshctl-current fills the installed version.
 */
export function matchMeshctlBinaries(given: readonly GivenBinary[], current: GivenBinary | undefined, installed: string, hopTargets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (current?.kind === 'file') out[installed] = current.path;
  if (current?.kind === 'dir' && current.found[installed]) out[installed] = current.found[installed];
  for (const g of given) if (g.kind === 'file' && g.version && !(g.version in out)) out[g.version] = g.path;
  const unversioned = given.filter((g): g is Extract<GivenBinary, { kind: 'file' }> => g.kind === 'file' && !g.version);
  for (const target of hopTargets) {
    if (target in out) continue;
    const next = unversioned.shift();
    if (next) out[target] = next.path;
  }
  for (const g of given) if (g.kind === 'dir') for (const [v, p] of Object.entries(g.found)) if (!(v in out)) out[v] = p;
  return out;
}

async function isFile(deps: Pick<Deps, 'fs'>, p: string): Promise<boolean> {
  try { return (await deps.fs.stat(p)).isFile(); } catch { return false; }
}

async function inspect(deps: Pick<Deps, 'fs' | 'exec'>, p: string, versions: readonly string[]): Promise<GivenBinary> {
  let isDir = false;
  try { isDir = (await deps.fs.stat(p)).isDirectory(); } catch { /* missing: treated as a file, preflight reports it */ }
  if (isDir) {
    const found: Record<string, string> = {};
    for (const v of versions) {
      for (const c of candidateNames(p, v)) if (await isFile(deps, c)) { found[v] = c; break; }
    }
    return { kind: 'dir', path: p, found };
  }
  let version: string | undefined;
  try {
    const res = await deps.exec.run(meshctlVersion(p));
    version = res.exitCode === 0 || res.stdout ? parseMeshctlVersion(res.stdout) : undefined;
  } catch { /* not runnable: preflight reports it */ }
  return { kind: 'file', path: p, version };
}

/** Resolves --meshctl/--meshctl-current for the versions of a chain of hops (installed first). */
export async function resolveMeshctlBinaries(deps: Pick<Deps, 'fs' | 'exec'>, given: readonly string[], current: string | undefined, installed: string, hopTargets: readonly string[]): Promise<Record<string, string>> {
  const versions = [installed, ...hopTargets];
  // Absolute paths: the plan is journaled, and a resumed run may start from another directory.
  const inspected = await Promise.all(given.map((g) => inspect(deps, path.resolve(g), versions)));
  const cur = current ? await inspect(deps, path.resolve(current), [installed]) : undefined;
  return matchMeshctlBinaries(inspected, cur, installed, hopTargets);
}
