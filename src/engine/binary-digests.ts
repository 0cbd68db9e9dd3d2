/**
 * What a run ran, journaled so that a resume can tell: each nginx-meshctl binary's version, path
 * and SHA-256, helm's path and SHA-256, and the chart reference (with the SHA-256 of a local
 * chart's files). A resume never takes a binary or a chart from a journal: it finds them as a fresh
 * run does (the flags, then PATH by version) and refuses (exit 2, nothing run) when what it found
 * is not what the run recorded, naming both. A journal edited to name another program therefore
 * runs nothing: the program named is never looked at, only the one found is, and its hash must be
 * the recorded one.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import type { ChartSource, CommandInputs, Plan } from './types.ts';

type Fs = Deps['fs'];

export interface FileDigest {
  path: string;
  sha256: string;
}

/** A chart: its reference, and for a local chart (a directory, a .tgz) the SHA-256 of its files. */
export interface ChartDigest {
  ref: string;
  sha256?: string | undefined;
}

export interface RunBinaries {
  /** nginx-meshctl, by the version it is the binary of. */
  meshctl: Record<string, FileDigest>;
  helm?: FileDigest | undefined;
  chart: ChartDigest;
}

/** The SHA-256 of a file's bytes (read in pieces: a binary may be large). */
export async function fileSha256(fs: Fs, p: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fs.open(p, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** The SHA-256 of a directory tree: every file's path and hash, every symlink's target, sorted. */
async function treeSha256(fs: Fs, root: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const r = path.join(rel, name);
      const st = await fs.lstat(path.join(root, r));
      if (st.isSymbolicLink()) lines.push(`link ${r} ${await fs.readlink(path.join(root, r))}`);
      else if (st.isDirectory()) await walk(r);
      else if (st.isFile()) lines.push(`file ${r} ${await fileSha256(fs, path.join(root, r))}`);
    }
  };
  await walk('');
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Pure: what names the chart on the command line (a repository reference or a local path). */
export function chartRef(c: ChartSource): string {
  return c.kind === 'repo' ? c.ref : c.kind === 'versioned-dir' ? c.dir : c.path;
}

export async function chartDigest(fs: Fs, c: ChartSource): Promise<ChartDigest> {
  if (c.kind === 'repo') return { ref: c.ref };
  const ref = path.resolve(chartRef(c));
  const st = await fs.stat(ref);
  return { ref, sha256: st.isDirectory() ? await treeSha256(fs, ref) : await fileSha256(fs, ref) };
}

/** Pure: the programs a plan's commands run. */
export function planBinaries(plan: Pick<Plan, 'hops'>): Set<string> {
  return new Set(
    plan.hops.flatMap((h) =>
      h.steps.flatMap((s) => [...s.commands, ...(s.kind === 'deploy' ? [s.params.undo] : [])].map((c) => c.bin)),
    ),
  );
}

/** The digests of the binaries (those `used` runs, when given: the plan's) and the chart. */
export async function digestInputs(
  fs: Fs,
  inputs: Pick<CommandInputs, 'meshctlBinaries' | 'helm' | 'chart'>,
  used?: ReadonlySet<string>,
): Promise<RunBinaries> {
  const meshctl: Record<string, FileDigest> = {};
  for (const [version, p] of Object.entries(inputs.meshctlBinaries))
    if (!used || used.has(p)) meshctl[version] = { path: p, sha256: await fileSha256(fs, p) };
  const helm = inputs.helm && (!used || used.has(inputs.helm.bin)) ? inputs.helm.bin : undefined;
  return {
    meshctl,
    ...(helm ? { helm: { path: helm, sha256: await fileSha256(fs, helm) } } : {}),
    chart: await chartDigest(fs, inputs.chart),
  };
}

const short = (d: { path?: string; ref?: string; sha256?: string | undefined }) =>
  `${d.path ?? d.ref}${d.sha256 ? ` (sha256 ${d.sha256})` : ''}`;

/** Pure: how what was found now differs from what `what` ("the run") recorded, one line each (empty: the same). */
export function binaryDifferences(journaled: RunBinaries, found: RunBinaries, what = 'the run'): string[] {
  const out: string[] = [];
  for (const [version, was] of Object.entries(journaled.meshctl)) {
    const now = found.meshctl[version];
    if (!now) out.push(`nginx-meshctl ${version}: ${what} used ${short(was)}; none was found now (given or on PATH)`);
    else if (now.sha256 !== was.sha256)
      out.push(`nginx-meshctl ${version}: ${what} used ${short(was)}; found now ${short(now)}`);
  }
  if (journaled.helm && !found.helm) out.push(`helm: ${what} used ${short(journaled.helm)}; none was found now`);
  else if (journaled.helm && found.helm && found.helm.sha256 !== journaled.helm.sha256)
    out.push(`helm: ${what} used ${short(journaled.helm)}; found now ${short(found.helm)}`);
  const [was, now] = [journaled.chart, found.chart];
  if (was.ref !== now.ref || was.sha256 !== now.sha256)
    out.push(
      `the chart: ${what} used ${short(was)}; ${now.ref === was.ref ? 'its files changed since' : 'given now'}: ${short(now)}`,
    );
  return out;
}

/** Pure: for each binary found now that the journal recorded (same version; same hash once assertSameBinaries passed), found path -> recorded path. */
export function journaledPaths(journaled: RunBinaries, found: RunBinaries): Map<string, string> {
  const out = new Map<string, string>();
  for (const [version, was] of Object.entries(journaled.meshctl)) {
    const now = found.meshctl[version];
    if (now) out.set(now.path, was.path);
  }
  if (journaled.helm && found.helm) out.set(found.helm.path, journaled.helm.path);
  return out;
}

const flags = '--meshctl, --meshctl-current, --helm, --chart';

/** Refuses (exit 2) binaries or a chart other than the ones `what` ("the run") recorded, naming both. */
export function assertSameBinaries(journaled: RunBinaries, found: RunBinaries, what: string): void {
  const diff = binaryDifferences(journaled, found, what);
  if (diff.length === 0) return;
  throw new UsageError(
    `the binaries or chart found now are not the ones ${what} used (nothing was run): ${diff.join('; ')}`,
    `A resume finds them as a fresh run does and never from its journal: pass the ones ${what} used again (${flags}), or put them on PATH, after checking they are what you expect. A binary that changed since (an update) cannot resume this run: finish it with the one it started with.`,
  );
}

/**
 * What a resume found (the flags, then PATH), hashed and checked against what `what` journaled
 * (assertSameBinaries); returns journaledPaths, to compare the plans by.
 */
export async function checkFoundBinaries(
  fs: Fs,
  journaled: RunBinaries,
  found: Pick<CommandInputs, 'meshctlBinaries' | 'helm' | 'chart'>,
  what: string,
): Promise<Map<string, string>> {
  let digests: RunBinaries;
  try {
    digests = await digestInputs(fs, found);
  } catch (err) {
    throw new UsageError(
      `a binary or the chart found to resume ${what} cannot be read: ${(err as Error).message}`,
      `Pass the binaries and chart ${what} used again (${flags}).`,
    );
  }
  assertSameBinaries(journaled, digests, what);
  return journaledPaths(journaled, digests);
}
