/**
 * The run's directory and files (private-files.ts), with real symlinks, hard links and modes: a
 * write never goes through a symlink or into a file someone left, and a directory others can write
 * (or that is not the user's) is refused with exit 2 and the fix.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import {
  appendPrivateFile,
  checkRunDir,
  createPrivateFile,
  ensurePrivateDir,
  readPrivateFile,
} from '../../../src/backup/private-files.ts';

const roots: string[] = [];
let tmp: string;
/** A file outside the run's directory that a planted symlink points at: it must stay as it is. */
let victim: string;
const mode = async (p: string) => (await fs.lstat(p)).mode & 0o777;
const isRoot = process.getuid?.() === 0;

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-private-'));
  roots.push(tmp);
  victim = path.join(tmp, 'victim');
  await fs.writeFile(victim, 'mine\n', { mode: 0o644 });
});
afterAll(async () => {
  for (const r of roots) await fs.rm(r, { recursive: true, force: true });
});

describe('the run directory', () => {
  it("absent: created 0700; an existing empty one of the user's that others cannot write is made 0700", async () => {
    const dir = path.join(tmp, 'a', 'run');
    expect(await checkRunDir(fs, dir)).toBe('absent');
    await ensurePrivateDir(fs, dir);
    expect(await mode(dir)).toBe(0o700);
    const mine = path.join(tmp, 'mine');
    await fs.mkdir(mine);
    await fs.chmod(mine, 0o755);
    await ensurePrivateDir(fs, mine);
    expect(await mode(mine)).toBe(0o700);
  });

  it('refuses one its group or anyone can write, naming chmod 700 and another directory (exit 2)', async () => {
    const dir = path.join(tmp, 'shared');
    await fs.mkdir(dir);
    for (const [m, who] of [
      [0o770, 'its group'],
      [0o777, 'anyone'],
      [0o1777, 'anyone'],
    ] as const) {
      await fs.chmod(dir, m);
      const err = await checkRunDir(fs, dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(new RegExp(`--backup-dir ${dir} is writable by ${who}`));
      expect((err as UsageError).hint).toMatch(new RegExp(`chmod 700 ${dir}.*--backup-dir with a new directory`));
      await expect(ensurePrivateDir(fs, dir)).rejects.toBeInstanceOf(UsageError);
      expect((await mode(dir)) & 0o777).toBe(m & 0o777); // refused: left as it was
    }
  });

  it('refuses a symlink to a directory, and a file', async () => {
    const real = path.join(tmp, 'real');
    await fs.mkdir(real, { mode: 0o700 });
    await fs.symlink(real, path.join(tmp, 'link'));
    await expect(checkRunDir(fs, path.join(tmp, 'link'))).rejects.toThrow(/is a symbolic link/);
    await expect(checkRunDir(fs, victim)).rejects.toThrow(/exists and is not a directory/);
  });

  it("refuses a directory that is not the user's", async (ctx) => {
    ctx.skip(!isRoot, 'only root can make a directory owned by another user');
    const dir = path.join(tmp, 'theirs');
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.chown(dir, 4242, 4242);
    await expect(checkRunDir(fs, dir)).rejects.toThrow(/belongs to user id 4242, not to you/);
  });
});

/** What someone may leave where the run's file goes. */
const planted: [string, (file: string) => Promise<void>, RegExp][] = [
  [
    "a symlink to a file of the user's",
    (f) => fs.symlink(victim, f),
    /is a symbolic link: the tool never writes through or into it/,
  ],
  ['a hard link to it', (f) => fs.link(victim, f), /has 2 hard links/],
  [
    'a file others can write',
    async (f) => {
      await fs.writeFile(f, '');
      await fs.chmod(f, 0o622);
    },
    /is writable by others \(mode 622\)/,
  ],
];

describe('files in it', () => {
  for (const [what, plant, refusal] of planted) {
    it(`${what} where a new file goes is replaced by name: what it points to is untouched`, async () => {
      const file = path.join(tmp, 'values.yaml');
      await plant(file);
      await createPrivateFile(fs, file, 'secret: 1\n');
      expect(await fs.readFile(victim, 'utf8')).toBe('mine\n');
      expect((await fs.lstat(file)).isFile() && (await fs.lstat(file)).nlink).toBe(1);
      expect(await mode(file)).toBe(0o600);
      expect(await fs.readFile(file, 'utf8')).toBe('secret: 1\n');
    });

    it(`${what} where the journal is appended to: refused (exit 2), nothing written`, async () => {
      const file = path.join(tmp, 'journal.ndjson');
      await plant(file);
      const err = await appendPrivateFile(fs, file, 'x\n').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(refusal);
      expect(await fs.readFile(victim, 'utf8')).toBe('mine\n');
    });
  }

  it('appends to a new journal 0600, fsynced, line after line', async () => {
    const file = path.join(tmp, 'journal.ndjson');
    await appendPrivateFile(fs, file, 'a\n');
    await appendPrivateFile(fs, file, 'b\n');
    expect(await fs.readFile(file, 'utf8')).toBe('a\nb\n');
    expect(await mode(file)).toBe(0o600);
  });

  it('reads a journal only as a regular file reached without a symlink', async () => {
    const file = path.join(tmp, 'journal.ndjson');
    await fs.symlink(victim, file);
    await expect(readPrivateFile(fs, file)).rejects.toThrow(/is a symbolic link/);
    await expect(readPrivateFile(fs, path.join(tmp, 'none'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
