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

/** Creates `dir` (and resources/) with mode 0700; refuses a directory that already holds a backup. */
export async function prepareBackupDir(fs: Fs, dir: string): Promise<void> {
  const existing = await fs.lstat(dir).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err; });
  if (existing && !existing.isDirectory()) throw new UsageError(`backup directory ${dir} exists and is not a directory`, 'Pass a new directory with --dir.');
  if (existing) {
    const manifest = await fs.lstat(path.join(dir, 'manifest.json')).catch(() => undefined);
    if (manifest) throw new UsageError(`${dir} already holds a backup (manifest.json); a backup is never overwritten`, 'Pass a new directory with --dir.');
  }
  await fs.mkdir(dir, { recursive: true, mode: dirMode });
  await fs.chmod(dir, dirMode);
  await fs.mkdir(path.join(dir, 'resources'), { recursive: true, mode: dirMode });
  await fs.chmod(path.join(dir, 'resources'), dirMode);
}

/** Writes `data` to `dir/rel` atomically (temp name + fsync + rename), mode 0600. */
export async function writeFileAtomic(fs: Fs, dir: string, rel: string, data: string): Promise<void> {
  const final = path.join(dir, rel);
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
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
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
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
