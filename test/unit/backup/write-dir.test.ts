import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import { backupDirFor, prepareBackupDir } from '../../../src/backup/write.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-write-dir-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const now = new Date('2026-11-26T02:30:00.123Z');
const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('backup --dir', () => {
  it('uses a directory that does not exist yet, and creates it 0700 with resources/ 0700', async () => {
    const dir = path.join(tmp, 'new');
    expect(await backupDirFor(fsp, dir, now)).toBe(dir);
    await prepareBackupDir(fsp, dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'resources'))).toBe(0o700);
  });

  it("writes into a new subdirectory of an existing directory and leaves that directory's mode alone", async () => {
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chmodSync(home, 0o755);
    fs.writeFileSync(path.join(home, 'notes.txt'), 'mine');
    const dir = await backupDirFor(fsp, home, now);
    expect(dir).toBe(path.join(home, 'nsm-backup-20261126T023000Z'));
    await prepareBackupDir(fsp, dir);
    expect(mode(home)).toBe(0o755);
    expect(mode(dir)).toBe(0o700);
    expect(fs.readFileSync(path.join(home, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a path that is a file (exit 2)', async () => {
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, 'x');
    await expect(backupDirFor(fsp, file, now)).rejects.toBeInstanceOf(UsageError);
  });

  it('keeps the mode of an existing hop directory a resumed run writes into again', async () => {
    const hop = path.join(tmp, 'hop1');
    fs.mkdirSync(hop, { mode: 0o750 });
    fs.chmodSync(hop, 0o750);
    await prepareBackupDir(fsp, hop);
    expect(mode(hop)).toBe(0o750);
    expect(mode(path.join(hop, 'resources'))).toBe(0o700);
  });
});
