/**
 * Writing a backup directory safely: the directory is 0700, every file 0600, and every file
 * is written to a temporary name in the same directory, flushed, then renamed over its final
 * name, so a crash never leaves a half-written file under a real name. manifest.json is
 * written last: its presence marks a complete backup.
 */
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';

type Fs = Deps['fs'];

export const dirMode = 0o700;
export const fileMode = 0o600;

/** The backup directory name used when none is given: nsm-backup-20260101T120000Z. */
export function defaultBackupDir(now: Date): string {
  return `nsm-backup-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

async function lstatOrUndefined(fs: Fs, p: string) {
  return fs.lstat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/**
 * Where `backup --dir DIR` writes: DIR itself when it does not exist yet, else a new subdirectory
 * DIR/nsm-backup-<time>, so the mode and files of a directory the user already has are never changed.
 */
export async function backupDirFor(fs: Fs, dir: string, now: Date): Promise<string> {
  const existing = await lstatOrUndefined(fs, dir);
  if (!existing) return dir;
  if (!existing.isDirectory())
    throw new UsageError(`backup directory ${dir} exists and is not a directory`, 'Pass a new directory with --dir.');
  const sub = path.join(dir, defaultBackupDir(now));
  if (await lstatOrUndefined(fs, sub))
    throw new UsageError(`${sub} already exists`, 'Run again in a second, or pass a new directory with --dir.');
  return sub;
}

/**
 * Creates `dir` (and resources/) with mode 0700; refuses a directory that already holds a backup.
 * A directory that exists already (a resumed run's hop directory) keeps its mode: only what this
 * function creates is made 0700.
 */
export async function prepareBackupDir(fs: Fs, dir: string): Promise<void> {
  const existing = await lstatOrUndefined(fs, dir);
  if (existing && !existing.isDirectory())
    throw new UsageError(`backup directory ${dir} exists and is not a directory`, 'Pass a new directory with --dir.');
  if (existing) {
    const manifest = await fs.lstat(path.join(dir, 'manifest.json')).catch(() => undefined);
    if (manifest)
      throw new UsageError(
        `${dir} already holds a backup (manifest.json); a backup is never overwritten`,
        'Pass a new directory with --dir.',
      );
  } else {
    await fs.mkdir(dir, { recursive: true, mode: dirMode });
    await fs.chmod(dir, dirMode);
  }
  const resources = path.join(dir, 'resources');
  if (!(await lstatOrUndefined(fs, resources))) {
    await fs.mkdir(resources, { mode: dirMode });
    await fs.chmod(resources, dirMode);
  }
}

/** Writes `data` to `dir/rel` atomically (temp name + fsync + rename), mode 0600. */
export async function writeFileAtomic(fs: Fs, dir: string, rel: string, data: string): Promise<void> {
  const final = path.join(dir, rel);
  const tmp = path.join(
    path.dirname(final),
    `.${path.basename(final)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const fh = await fs.open(tmp, 'wx', fileMode);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, final);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** A file being written in pieces: appended to a temp name, hashed as it goes, renamed on commit. */
export interface AtomicWriter {
  write(text: string): Promise<void>;
  /** Flushes, renames over the final name; returns the sha256 of everything written. */
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export async function openAtomic(fs: Fs, dir: string, rel: string): Promise<AtomicWriter> {
  const final = path.join(dir, rel);
  const tmp = path.join(
    path.dirname(final),
    `.${path.basename(final)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const fh = await fs.open(tmp, 'wx', fileMode);
  const hash = createHash('sha256');
  return {
    async write(text) {
      const buf = Buffer.from(text, 'utf8');
      hash.update(buf);
      await fh.write(buf);
    },
    async commit() {
      await fh.sync();
      await fh.close();
      await fs.rename(tmp, final);
      return hash.digest('hex');
    },
    async abort() {
      await fh.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
    },
  };
}
