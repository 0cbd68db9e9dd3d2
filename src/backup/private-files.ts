/**
 * The run's own directory and files, never another's: a run directory (--backup-dir, a fleet's, a
 * rollback's) is a real directory of the user's that nobody else can write, made 0700; every file
 * in it is created new (O_CREAT|O_EXCL|O_NOFOLLOW) or appended to only when it is a regular file of
 * the user's reached without a symlink (O_NOFOLLOW). A symlink or a file someone left is never
 * followed: a write through one would land wherever it points. Refusals are UsageErrors (exit 2).
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';

type Fs = Deps['fs'];

const uid = () => process.getuid?.() ?? 0;
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** The directory's lstat when it is one a run may write into (see checkRunDir), undefined when absent. */
async function runDirStat(fs: Fs, dir: string, what: string) {
  const st = await fs.lstat(dir).catch((err: unknown) => {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return undefined;
  const another = what.startsWith('--')
    ? `or pass ${what} with a new directory (it is created 0700)`
    : 'or use a new directory';
  if (st.isSymbolicLink())
    throw new UsageError(
      `${what} ${dir} is a symbolic link: the run writes only into a directory it reached without one`,
      `Pass the directory itself ("$(realpath ${dir})"), ${another}.`,
    );
  if (!st.isDirectory())
    throw new UsageError(`${what} ${dir} exists and is not a directory`, 'Use a new or empty directory.');
  if (st.uid !== uid())
    throw new UsageError(
      `${what} ${dir} belongs to user id ${st.uid}, not to you (${uid()}): its owner could change the backup and the journal`,
      `Use a directory of yours, ${another}.`,
    );
  if ((st.mode & 0o022) !== 0) {
    throw new UsageError(
      `${what} ${dir} is writable by ${st.mode & 0o002 ? 'anyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): others could change the backup and the journal`,
      `Make it private: chmod 700 ${dir}; ${another}.`,
    );
  }
  return st;
}

/**
 * Checks a directory a run is to write into: absent (it is created 0700 later), or a real directory
 * (not a symlink) owned by the user that neither its group nor others can write. `what` names it
 * in the refusal (the option that gave it).
 */
export async function checkRunDir(fs: Fs, dir: string, what = '--backup-dir'): Promise<'absent' | 'present'> {
  return (await runDirStat(fs, dir, what)) ? 'present' : 'absent';
}

/** The run directory, created 0700 when absent (parents too); when present it must pass checkRunDir and is made 0700. */
export async function ensurePrivateDir(fs: Fs, dir: string, what = '--backup-dir'): Promise<void> {
  let st = await runDirStat(fs, dir, what);
  if (!st) {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    st = (await runDirStat(fs, dir, what))!; // made by someone else between the check and the mkdir: checked again
  }
  if ((st.mode & 0o777) !== 0o700) await fs.chmod(dir, 0o700);
}

function notFollowed(file: string, what: string): UsageError {
  return new UsageError(
    `${file} ${what}: the tool never writes through or into it`,
    `Check who put it there; move it away, or use another directory.`,
  );
}

/** Refuses (and closes) an open file that is not a regular file of the user's with one link, writable by nobody else. */
async function ownRegularFile(fh: FileHandle, file: string): Promise<void> {
  const st = await fh.stat();
  const why = !st.isFile()
    ? 'is not a regular file'
    : st.uid !== uid()
      ? `belongs to user id ${st.uid}, not to you (${uid()})`
      : st.nlink !== 1
        ? `has ${st.nlink} hard links`
        : (st.mode & 0o022) !== 0
          ? `is writable by others (mode ${(st.mode & 0o777).toString(8)})`
          : undefined;
  if (why) {
    await fh.close();
    throw notFollowed(file, why);
  }
}

/** Opens `file` to append (created 0600 when missing) without following a symlink; it must be a regular file of the user's. */
export async function openPrivateAppend(fs: Fs, file: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if (code(err) === 'ELOOP') throw notFollowed(file, 'is a symbolic link');
    throw err;
  }
  await ownRegularFile(fh, file);
  return fh;
}

/** Appends `text` to `file` (see openPrivateAppend), fsynced unless `sync` is false (a log). */
export async function appendPrivateFile(
  fs: Fs,
  file: string,
  text: string,
  opts: { sync?: boolean } = {},
): Promise<void> {
  const fh = await openPrivateAppend(fs, file);
  try {
    await fh.appendFile(text);
    if (opts.sync !== false) await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `text` to a new `file`, 0600. What is at that name (a symlink, a file left by an earlier
 * run) is removed first, by name: what a symlink points to is never touched. Created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, so a name planted between the two fails instead of being followed.
 */
export async function createPrivateFile(fs: Fs, file: string, text: string): Promise<void> {
  await fs.rm(file, { force: true });
  const fh = await fs.open(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Reads a file of the run (a journal) without following a symlink; it must be a regular file. ENOENT is passed on. */
export async function readPrivateFile(fs: Fs, file: string): Promise<string> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (code(err) === 'ELOOP')
      throw new UsageError(
        `${file} is a symbolic link: a run's journal is a file in its own directory`,
        'Check who replaced it; resume only from the directory the run wrote.',
      );
    throw err;
  }
  try {
    if (!(await fh.stat()).isFile())
      throw new UsageError(`${file} is not a regular file`, 'Resume only from the directory the run wrote.');
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}
