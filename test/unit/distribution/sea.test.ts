/**
 * The single-file executable (build/sea.ts): built into a temporary directory
 * and run with a PATH that has no node on it, from a directory with no package.json around.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSea, packageVersion, type SeaPaths } from '../../../build/sea.ts';
import { archiveFiles, makeArchive, sha256File } from '../../../build/release.ts';
import { repoRoot } from '../../support/cluster.ts';

const require = createRequire(import.meta.url);
const missing = ['esbuild', 'postject'].filter((m) => {
  try {
    require.resolve(`${m}/package.json`);
    return false;
  } catch {
    return true;
  }
});
const skipReason = missing.length
  ? `not installed: ${missing.join(', ')} (add them as devDependencies, or npm i --no-save ${missing.join(' ')})`
  : '';
if (skipReason) console.warn(`single executable tests skipped: ${skipReason}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-sea-'));
/** A PATH with only the few shell tools the completion helper uses: no node. */
const toolsDir = path.join(tmp, 'tools');
const cwd = path.join(tmp, 'elsewhere');
let built: SeaPaths;

function run(file: string, args: string[]) {
  return execa(file, args, {
    cwd,
    env: { PATH: toolsDir, HOME: tmp },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

describe.skipIf(missing.length > 0)(
  `single executable (dist/kubectl-nsm_upgrade)${skipReason ? ` [skipped: ${skipReason}]` : ''}`,
  () => {
    beforeAll(async () => {
      fs.mkdirSync(toolsDir);
      fs.mkdirSync(cwd);
      for (const t of ['sh', 'dirname', 'readlink'])
        fs.symlinkSync(fs.realpathSync(path.join('/bin', t)), path.join(toolsDir, t));
      built = await buildSea(path.join(tmp, 'release/kubectl-nsm_upgrade'));
      fs.copyFileSync(
        path.join(repoRoot, 'bin/kubectl_complete-nsm_upgrade'),
        path.join(tmp, 'release/kubectl_complete-nsm_upgrade'),
      );
      fs.chmodSync(path.join(tmp, 'release/kubectl_complete-nsm_upgrade'), 0o755);
    }, 300_000);
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('is one executable file, and node is not on the PATH it runs with', async () => {
      expect(fs.statSync(built.out).mode & 0o111).not.toBe(0);
      expect(fs.readdirSync(toolsDir).sort()).toEqual(['dirname', 'readlink', 'sh']);
    });

    it('prints the package version with --version', async () => {
      const r = await run(built.out, ['--version']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stdout).trim()).toBe(packageVersion());
      expect(String(r.stderr)).not.toMatch(/ExperimentalWarning|single executable/i);
    }, 60_000);

    it('prints the help with every command and the exit codes', async () => {
      const r = await run(built.out, ['--help']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      for (const cmd of ['plan', 'backup', 'restore', 'status', 'restart', 'completion'])
        expect(String(r.stdout)).toMatch(new RegExp(`^\\s+kubectl nsm-upgrade ${cmd}\\b`, 'm'));
      expect(String(r.stdout)).toMatch(/Exit codes: 0 done/);
    }, 60_000);

    it('refuses a bad flag with exit 2, as the npm-installed command does', async () => {
      const r = await run(built.out, ['--no-such-flag']);
      expect(r.exitCode).toBe(2);
      expect(String(r.stderr)).toMatch(/Unknown argument/);
    }, 60_000);

    it("answers kubectl's completion through kubectl_complete-nsm_upgrade shipped next to it", async () => {
      const r = await run(path.join(tmp, 'release/kubectl_complete-nsm_upgrade'), ['restore', '--on-conflict', 'o']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stdout)).toBe('overwrite\n:4');
    }, 60_000);

    it('packs the release archive krew unpacks: both files, executable, at the top level', async () => {
      const archive = await makeArchive(built.out, path.join(tmp, 'archives'), 'linux', 'amd64');
      const list = await execa('tar', ['-tvzf', archive]);
      const entries = String(list.stdout)
        .split('\n')
        .map((l) => ({ mode: l.split(/\s+/)[0]!, name: l.split(/\s+/).at(-1)! }));
      expect(entries.map((e) => e.name).sort()).toEqual([...archiveFiles].sort());
      for (const e of entries) expect(e.mode).toMatch(/^-rwx/);
      expect(await sha256File(archive)).toMatch(/^[a-f0-9]{64}$/);
    }, 120_000);
  },
);
