/**
 * Reading and verifying a backup directory, treating every byte as hostile.
 *
 *   verifyBackup(fs, dir, { keepObjects? }): Promise<VerifiedBackup>
 *
 * Checks, before anything is applied: manifest shape and paths (manifest.ts); no symlinks, no
 * file over 50 MB, no file in resources/ the manifest does not list; sha256 and object count of
 * every file; UTF-8; YAML without anchors, aliases or tags (yaml.ts); every document an object
 * of the file's catalog kind, with a valid name and namespace, no duplicates. Any problem is a
 * UsageError (exit 2) naming the file and the problem.
 *
 * Files are read part by part (stream-read.ts): with `keepObjects: false` memory holds one part,
 * and each kind carries its parts' hashes, so a restore can read the file again part by part
 * (readVerifiedParts) and apply only bytes identical to those verified here.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import type { KubeObject } from '../kube/client.ts';
import type { CatalogKind } from '../mesh/catalog.ts';
import { kindForPath, parseManifest, sha256, type Manifest } from './manifest.ts';
import { parseDocumentsSafe } from './yaml.ts';
import { FileTooLarge, partText, scanParts, type FilePart } from './stream-read.ts';

type Fs = Deps['fs'];

export const maxFileBytes = 50 * 1024 * 1024;

export interface VerifiedKind {
  row: CatalogKind;
  /** The version the objects were backed up with (their apiVersion). */
  version: string;
  path: string;
  /** Empty with `keepObjects: false`: read them again with readVerifiedParts. */
  objects: KubeObject[];
  /** How many objects the file holds (checked against the manifest). */
  count: number;
  /** Each part's sha256 (stream-read.ts), as verified. */
  parts: string[];
}

export interface VerifiedBackup {
  dir: string;
  manifest: Manifest;
  /** The sha256 of manifest.json as read and verified: a run journals it when it takes the backup. */
  manifestSha256: string;
  kinds: VerifiedKind[];
  crds: KubeObject[];
  install: unknown;
}

const nameRe = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const hint = 'Nothing was applied. Restore from an intact backup directory (--from DIR), or re-run `backup`.';

function refuse(dir: string, file: string, problem: string): never {
  throw new UsageError(`backup ${dir}: ${file}: ${problem}`, hint);
}

/** Checks what a backup file is before reading it: a regular file (not a symlink), at most 50 MB. */
async function statChecked(fs: Fs, dir: string, rel: string): Promise<void> {
  const full = path.join(dir, rel);
  const st = await fs
    .lstat(full)
    .catch((err: NodeJS.ErrnoException) =>
      refuse(dir, rel, err.code === 'ENOENT' ? 'missing' : `unreadable (${err.code})`),
    );
  if (st.isSymbolicLink()) refuse(dir, rel, 'is a symbolic link; backup files must be regular files');
  if (!st.isFile()) refuse(dir, rel, 'is not a regular file');
  if (st.size > maxFileBytes) refuse(dir, rel, `is ${st.size} bytes, over the ${maxFileBytes}-byte limit`);
}

/** Reads one small file of the backup whole (manifest.json), with the same checks, as valid UTF-8. */
async function readChecked(fs: Fs, dir: string, rel: string): Promise<{ bytes: Buffer; text: string }> {
  await statChecked(fs, dir, rel);
  const bytes = await fs.readFile(path.join(dir, rel));
  if (bytes.length > maxFileBytes) refuse(dir, rel, `grew over the ${maxFileBytes}-byte limit while being read`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    refuse(dir, rel, 'is not valid UTF-8');
  }
  return { bytes, text };
}

/** Parses one part's documents, or refuses the file (UTF-8, YAML). */
function parsePart(dir: string, rel: string, part: FilePart): unknown[] {
  const text = partText(part);
  if (text === undefined) refuse(dir, rel, 'is not valid UTF-8');
  try {
    return parseDocumentsSafe(text, rel, part.firstLine);
  } catch (err) {
    refuse(dir, rel, `refused YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

const isObj = (v: unknown): v is KubeObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the documents of one resource file against its catalog kind. */
export function checkResourceDocs(
  dir: string,
  rel: string,
  row: CatalogKind,
  version: string,
  docs: unknown[],
  namespace: string | null,
  seen = new Set<string>(),
  first = 0,
): KubeObject[] {
  return docs.map((d, i) => {
    const where = `document ${first + i + 1}`;
    if (!isObj(d)) refuse(dir, rel, `${where} is not an object (${Array.isArray(d) ? 'a list' : typeof d})`);
    if (d.apiVersion !== `${row.group}/${version}` || d.kind !== row.kind) {
      refuse(
        dir,
        rel,
        `${where} is ${String(d.kind)} ${String(d.apiVersion)}; this file may only hold ${row.kind} ${row.group}/${version} (unknown kinds are never restored)`,
      );
    }
    const meta = d.metadata;
    if (!isObj(meta)) refuse(dir, rel, `${where} has no metadata`);
    const { name, namespace: ns } = meta;
    if (typeof name !== 'string' || name === '') refuse(dir, rel, `${where} has no metadata.name`);
    if (!nameRe.test(name) || name.includes('..'))
      refuse(
        dir,
        rel,
        `${where} has an invalid name ${JSON.stringify(name)} (path separators and other characters are refused)`,
      );
    if (typeof ns !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns))
      refuse(dir, rel, `${where} (${name}) has a missing or invalid metadata.namespace ${JSON.stringify(ns)}`);
    if (namespace !== null && ns !== namespace)
      refuse(dir, rel, `${where} (${name}) is in namespace ${ns}, outside the backup's scope ${namespace}`);
    if (meta.generateName !== undefined) refuse(dir, rel, `${where} (${name}) uses generateName`);
    const key = `${ns}/${name}`;
    if (seen.has(key)) refuse(dir, rel, `${where}: ${key} appears twice`);
    seen.add(key);
    return d;
  });
}

/** `keepObjects: false` checks everything but returns no objects (backup's read-back, low memory). */
export async function verifyBackup(fs: Fs, dir: string, opts: { keepObjects?: boolean } = {}): Promise<VerifiedBackup> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new UsageError(
      `backup directory ${dir} does not exist or is not a directory`,
      'Pass the directory written by `backup` with --from DIR.',
    );
  const manifestFile = await readChecked(fs, dir, 'manifest.json');
  const manifest = parseManifest(manifestFile.text);
  const listed = new Set(manifest.files.map((f) => f.path));
  const resDir = await fs.lstat(path.join(dir, 'resources')).catch(() => undefined);
  if (resDir?.isSymbolicLink()) refuse(dir, 'resources', 'is a symbolic link');
  if (resDir) {
    for (const entry of await fs.readdir(path.join(dir, 'resources'))) {
      if (!listed.has(`resources/${entry}`))
        refuse(dir, `resources/${entry}`, 'is not listed in manifest.json (unknown files are refused)');
    }
  }
  const out: VerifiedBackup = {
    dir,
    manifest,
    manifestSha256: sha256(manifestFile.bytes),
    kinds: [],
    crds: [],
    install: undefined,
  };
  for (const f of manifest.files) {
    await statChecked(fs, dir, f.path);
    const docs: unknown[] = [];
    const row = kindForPath(f.path); // parseManifest accepted only catalog paths besides crds/install
    const seen = new Set<string>();
    const keep = opts.keepObjects !== false || !row;
    let count = 0;
    // The first problem is kept and reading goes on (hashing only): a changed file is refused for its hash first.
    let problem: Error | undefined;
    let scan: Awaited<ReturnType<typeof scanParts>>;
    try {
      scan = await scanParts(fs, path.join(dir, f.path), { maxBytes: maxFileBytes }, (part) => {
        if (problem) return;
        try {
          const parsed = parsePart(dir, f.path, part);
          const checked = row
            ? checkResourceDocs(dir, f.path, row, f.version!, parsed, manifest.namespace, seen, count)
            : parsed;
          if (keep) for (const d of checked) docs.push(d);
          count += parsed.length;
        } catch (err) {
          problem = err instanceof Error ? err : new Error(String(err));
        }
      });
    } catch (err) {
      if (err instanceof FileTooLarge) refuse(dir, f.path, err.message);
      throw err;
    }
    if (scan.sha256 !== f.sha256)
      refuse(
        dir,
        f.path,
        `sha256 ${scan.sha256} does not match the manifest's ${f.sha256} (the file was changed or damaged)`,
      );
    if (problem) throw problem;
    if (count !== f.count) refuse(dir, f.path, `holds ${count} documents; the manifest says ${f.count}`);
    if (f.path === 'crds.yaml') {
      out.crds = docs.map((d, i) =>
        isObj(d) && d.kind === 'CustomResourceDefinition'
          ? d
          : refuse(dir, f.path, `document ${i + 1} is not a CustomResourceDefinition`),
      );
    } else if (f.path === 'install.yaml') {
      if (docs.length > 1 || (docs[0] !== undefined && !isObj(docs[0]))) refuse(dir, f.path, 'must hold one object');
      out.install = docs[0];
    } else {
      out.kinds.push({
        row: row!,
        version: f.version!,
        path: f.path,
        objects: docs as KubeObject[],
        count,
        parts: scan.parts,
      });
    }
  }
  return out;
}

/**
 * Pure: why a backup is not the one a run journaled when it took it (`journaled`: the sha256 of its
 * manifest.json then), or undefined. The manifest holds every file's hash, so an unchanged manifest
 * that verifies pins the whole backup. A journal without the hash pins nothing: that is a problem too.
 */
export function notAsJournaled(manifestSha256: string, journaled: unknown): string | undefined {
  if (typeof journaled !== 'string')
    return "the run's journal records no hash of its manifest.json to check it against";
  if (journaled !== manifestSha256)
    return `its manifest.json is not the one the run wrote (sha256 ${manifestSha256}, the journal recorded ${journaled})`;
  return undefined;
}

/** The sha256 of `dir`/manifest.json, read as verifyBackup reads it (a regular file, not a symlink, within the size limit). */
export async function manifestSha256(fs: Fs, dir: string): Promise<string> {
  return sha256((await readChecked(fs, dir, 'manifest.json')).bytes);
}

/**
 * Reads a verified kind's file again, part by part, handing each part's objects to `each` (awaited:
 * back-pressure). A part whose bytes differ from the verified one stops the read before it is
 * handed over: only bytes that verifyBackup checked are ever applied.
 */
export async function readVerifiedParts(
  fs: Fs,
  dir: string,
  vk: VerifiedKind,
  each: (objects: KubeObject[]) => Promise<void> | void,
): Promise<void> {
  const changed = (why: string) =>
    new UsageError(
      `backup ${dir}: ${vk.path}: changed since it was verified (${why}); the restore stopped there`,
      'Objects restored before this point came from the verified file. Restore again from an intact backup (--from DIR): restored objects are recognized as unchanged.',
    );
  const scan = await scanParts(fs, path.join(dir, vk.path), { maxBytes: maxFileBytes }, async (part) => {
    if (part.sha256 !== vk.parts[part.index])
      throw changed(`part ${part.index + 1}, from line ${part.firstLine}, differs`);
    await each(parsePart(dir, vk.path, part) as KubeObject[]);
  }).catch((err: unknown) => {
    throw err instanceof FileTooLarge ? changed(err.message) : err;
  });
  if (scan.parts.length !== vk.parts.length) throw changed(`${scan.parts.length} parts, ${vk.parts.length} verified`);
}

/** The first object of a verified kind's file (its part read again and checked like readVerifiedParts), or undefined when it holds none. */
export async function firstVerifiedObject(fs: Fs, dir: string, vk: VerifiedKind): Promise<KubeObject | undefined> {
  let first: KubeObject | undefined;
  const found = new Error('found');
  await readVerifiedParts(fs, dir, vk, (objects) => {
    first = objects[0];
    throw found;
  }).catch((err: unknown) => {
    if (err !== found) throw err;
  });
  return first;
}
