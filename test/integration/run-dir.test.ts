/**
 * The run's directory is the user's own, and nothing in it is followed (issue 23): through the real
 * CLI, a --backup-dir others can write, or a symlink, is refused with exit 2 before the cluster is
 * read; a journal replaced by a symlink is never read or written through, and what it points to
 * stays as it was.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from '../support/cluster.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-run-dir-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A file of the user's outside the run's directory, that a planted symlink points at. */
function victim(): string {
  const p = path.join(fs.mkdtempSync(path.join(tmp, 'home-')), 'notes');
  fs.writeFileSync(p, 'mine\n', { mode: 0o600 });
  return p;
}

describe('the run directory', () => {
  it('an empty --backup-dir its group can write: exit 2 naming chmod 700, nothing written, its mode kept', async () => {
    const dir = path.join(tmp, 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o770);
    const r = await runTool(['--to', '2.0.0', '--backup-dir', dir, '--mesh-namespace', 'nsm-run-dir-none', '--yes']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--backup-dir ${dir} is writable by its group (mode 770)`);
    expect(r.stderr).toContain(`chmod 700 ${dir}`);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o770);
  });

  it("a --backup-dir that is a symlink to an empty directory of the user's: exit 2, nothing written through it", async () => {
    const real = fs.mkdtempSync(path.join(tmp, 'real-'));
    const link = path.join(tmp, 'link');
    fs.symlinkSync(real, link);
    const r = await runTool(['--to', '2.0.0', '--backup-dir', link, '--mesh-namespace', 'nsm-run-dir-none', '--yes']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--backup-dir ${link} is a symbolic link`);
    expect(fs.readdirSync(real)).toEqual([]);
  });

  it('--resume of a directory whose journal was replaced by a symlink: exit 2, the file it points to untouched', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'run-'));
    const target = victim();
    fs.symlinkSync(target, path.join(dir, 'journal.ndjson'));
    const r = await runTool(['--resume', dir, '--yes']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, 'journal.ndjson')} is a symbolic link`);
    expect(fs.readFileSync(target, 'utf8')).toBe('mine\n');
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
  });

  it('rollback --from a directory whose rollback journal was replaced by a symlink: exit 2, the file untouched', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'run-'));
    fs.writeFileSync(path.join(dir, 'journal.ndjson'), '', { mode: 0o600 });
    fs.mkdirSync(path.join(dir, 'rollback'), { mode: 0o700 });
    const target = victim();
    fs.symlinkSync(target, path.join(dir, 'rollback', 'journal.ndjson'));
    const r = await runTool(['rollback', '--from', dir, '--resume', '--yes']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('rollback/journal.ndjson is a symbolic link');
    expect(fs.readFileSync(target, 'utf8')).toBe('mine\n');
  });
});
