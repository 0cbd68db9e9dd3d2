/**
 * Finding nginx-meshctl as users have it: when --meshctl / --meshctl-current leave a version
 * without a binary, PATH is searched for `nginx-meshctl-<version>`, `nginx-meshctl-v<version>` and
 * plain `nginx-meshctl`, and a candidate is used only when its own `version` names the version the
 * step needs (a plain `nginx-meshctl` is usually whatever was installed last). The plan shows which
 * file was chosen and why; a version with no binary stays missing and the planner refuses (exit 2).
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { meshctlVersion, parseMeshctlVersion } from './meshctl.ts';

export interface ChosenBinary {
  version: string;
  path: string;
  /** Why this file: where it was found and what its `version` said (and what was passed over). */
  why: string;
}

/** Pure: the files PATH may hold `version`'s binary under, in the order they are tried (versioned names first). */
export function pathCandidates(pathDirs: readonly string[], version: string): string[] {
  const dirs = [...new Set(pathDirs.filter((d) => d && path.isAbsolute(d)))];
  return [
    ...dirs.flatMap((d) => [path.join(d, `nginx-meshctl-${version}`), path.join(d, `nginx-meshctl-v${version}`)]),
    ...dirs.map((d) => path.join(d, 'nginx-meshctl')),
  ];
}

/** Pure: PATH split into directories (empty entries and relative ones are not searched). */
export function pathDirectories(pathEnv: string | undefined): string[] {
  return (pathEnv ?? '').split(path.delimiter).filter((d) => d && path.isAbsolute(d));
}

async function isExecutableFile(deps: Pick<Deps, 'fs'>, p: string): Promise<boolean> {
  try {
    if (!(await deps.fs.stat(p)).isFile()) return false;
    await deps.fs.access(p, 1 /* X_OK */);
    return true;
  } catch {
    return false;
  }
}

/**
 * For each of `versions`, the first PATH candidate whose `nginx-meshctl version` names it. Each
 * file's version is asked once. Versions with no match are left out.
 */
export async function findMeshctlOnPath(
  deps: Pick<Deps, 'fs' | 'exec'>,
  pathDirs: readonly string[],
  versions: readonly string[],
): Promise<Record<string, ChosenBinary>> {
  const said = new Map<string, Promise<string | undefined>>();
  const versionOf = (p: string) => {
    if (!said.has(p)) {
      said.set(
        p,
        deps.exec.run(meshctlVersion(p)).then(
          (r) => parseMeshctlVersion(r.stdout),
          () => undefined,
        ),
      );
    }
    return said.get(p)!;
  };
  const out: Record<string, ChosenBinary> = {};
  for (const v of [...new Set(versions)]) {
    const passed: string[] = [];
    for (const c of pathCandidates(pathDirs, v)) {
      if (!(await isExecutableFile(deps, c))) continue;
      const got = await versionOf(c);
      if (got === v) {
        out[v] = {
          version: v,
          path: c,
          why: `found on PATH: \`${path.basename(c)} version\` says ${v}${passed.length ? ` (passed over ${passed.join(', ')})` : ''}`,
        };
        break;
      }
      passed.push(`${c}: ${got ? `it is ${got}` : 'no version'}`);
    }
  }
  return out;
}

/**
 * Where a command runs from: a name with a `/` is that file (made absolute); a bare name is the
 * first executable file of that name on PATH, as a shell would find it. Undefined when PATH has
 * none. The plan then names the file, so what is journaled and hashed is what runs.
 */
export async function resolveCommand(
  deps: Pick<Deps, 'fs'>,
  name: string,
  pathEnv: string | undefined,
): Promise<string | undefined> {
  if (name.includes('/')) return path.resolve(name);
  for (const d of pathDirectories(pathEnv)) {
    const c = path.join(d, name);
    if (await isExecutableFile(deps, c)) return c;
  }
  return undefined;
}
