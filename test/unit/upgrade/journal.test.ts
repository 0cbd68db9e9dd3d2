import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendJournal, journalSchemaVersion, parseJournal, readJournal } from '../../../src/engine/journal.ts';
import { UsageError } from '../../../src/errors.ts';
import type { Install, Plan, PlanOptions } from '../../../src/engine/types.ts';

const step = (id: string, kind: string) => ({
  id,
  kind,
  title: kind,
  destructive: false,
  writes: false,
  commands: [],
  params: {},
});
const plan = {
  from: '1.6.0',
  to: '1.7.0',
  namespace: 'nginx-mesh',
  method: 'meshctl',
  environment: 'kubernetes',
  release: 'nginx-service-mesh',
  warnings: [],
  refusals: [],
  hops: [
    {
      index: 1,
      from: '1.6.0',
      to: '1.7.0',
      strategy: 'manual',
      reason: 'r',
      method: 'meshctl',
      steps: [step('hop1.backup', 'backup'), step('hop1.remove', 'remove')],
    },
  ],
} as unknown as Plan;
const install: Install = {
  namespace: 'nginx-mesh',
  version: '1.6.0',
  method: 'meshctl',
  release: undefined,
  releaseRevision: undefined,
  releaseStatus: undefined,
  releaseStuck: false,
  chartVersion: undefined,
  environment: 'kubernetes',
  values: {},
  controlPlane: undefined,
  warnings: [],
};
const inputs: PlanOptions = {
  to: '1.7.0',
  strategy: 'auto',
  meshctlBinaries: {},
  helm: undefined,
  chart: { kind: 'repo', ref: 'x' },
  deployFlagChanges: {},
  labelNamespaces: false,
  unlabelledInjectedNamespaces: [],
  backupDir: '/b',
  timeout: '5m',
};
const binaries = { meshctl: { '1.7.0': { path: '/bin/m', sha256: 'a'.repeat(64) } }, chart: { ref: 'x' } };
const start = {
  schema: journalSchemaVersion,
  toolVersion: '0.1.0',
  install,
  inputs,
  cluster: { server: 'https://k', uid: 'u' },
  plan,
  binaries,
};

describe('journal', () => {
  it('records the plan first and each finished step, and reads them back', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await appendJournal(fs, dir, { type: 'run', runId: 'r1', at: 't', ...start });
    await appendJournal(fs, dir, {
      type: 'step',
      runId: 'r1',
      at: 't',
      step: 'hop1.backup',
      status: 'done',
      data: { objects: 3 },
    });
    await appendJournal(fs, dir, { type: 'resume', runId: 'r2', at: 't', previousRunId: 'r1' });
    await appendJournal(fs, dir, { type: 'step', runId: 'r2', at: 't', step: 'hop1.remove', status: 'done' });
    const st = await readJournal(fs, dir);
    expect(st.plan).toEqual(plan);
    expect([...st.done]).toEqual(['hop1.backup', 'hop1.remove']);
    expect(st.data.get('hop1.backup')).toEqual({ objects: 3 });
    expect(st.runId).toBe('r2');
    expect(st.finished).toBe(false);
    expect((await fs.stat(path.join(dir, 'journal.ndjson'))).mode & 0o777).toBe(0o600);
  });

  it('ignores a torn last line (killed mid-write) but refuses damage elsewhere', () => {
    const run = JSON.stringify({ type: 'run', runId: 'r', at: 't', ...start });
    const step = JSON.stringify({ type: 'step', runId: 'r', at: 't', step: 'hop1.backup', status: 'done' });
    expect([...parseJournal(`${run}\n${step}\n{"type":"st`, 'j').done]).toEqual(['hop1.backup']);
    expect(() => parseJournal(`${run}\n{"type":"st\n${step}\n`, 'j')).toThrow(UsageError);
    expect(() => parseJournal(`${step}\n`, 'j')).toThrow(/the first record must be the run record/);
  });

  it('checks every record against the schema before --resume takes anything from it', () => {
    const run = (over: Record<string, unknown>) =>
      JSON.stringify({ type: 'run', runId: 'r', at: 't', ...start, ...over });
    const step = (id: string) => JSON.stringify({ type: 'step', runId: 'r', at: 't', step: id, status: 'done' });
    expect(() => parseJournal(`${run({ schema: 1 })}\n`, 'j')).toThrow(/schema 1, this version reads schema 3/);
    expect(() =>
      parseJournal(
        `${run({ binaries: { meshctl: { '1.7.0': { path: '/x', sha256: 'not-a-hash' } }, chart: { ref: 'x' } } })}\n`,
        'j',
      ),
    ).toThrow(/\/binaries\/meshctl\/1.7.0\/sha256 is "not-a-hash", not a SHA-256/);
    expect(() => parseJournal(`${run({ install: 'x' })}\n`, 'j')).toThrow(/\/install is a string, not an object/);
    expect(() => parseJournal(`${run({ inputs: { ...inputs, backupDir: 7 } })}\n`, 'j')).toThrow(
      /\/inputs\/backupDir is a number, not a string/,
    );
    expect(() => parseJournal(`${run({})}\n${step('hop9.deploy')}\n`, 'j')).toThrow(
      /line 2 .*"hop9.deploy" is not a step of the journaled plan/,
    );
    expect(() =>
      parseJournal(`${run({})}\n{"type":"exec","argv":["rm","-rf","/"]}\n${step('hop1.backup')}\n`, 'j'),
    ).toThrow(/line 2 .*\/type is "exec", not one of run, step, resume, finished/);
    expect(() => parseJournal(`${run({})}\n${run({})}\n`, 'j')).toThrow(/a second run record/);
    expect(() => parseJournal(`${run({})}\n${step('hop1.backup')}\n`, 'j')).not.toThrow();
  });

  it('never writes through, nor reads, a symlink planted as the journal; the file it points to is untouched', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-'));
    const victim = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'victim-')), 'notes');
    await fs.writeFile(victim, 'mine\n', { mode: 0o600 });
    await fs.symlink(victim, path.join(dir, 'journal.ndjson'));
    await expect(appendJournal(fs, dir, { type: 'run', runId: 'r1', at: 't', ...start })).rejects.toThrow(
      /journal\.ndjson is a symbolic link: the tool never writes through or into it/,
    );
    expect(await fs.readFile(victim, 'utf8')).toBe('mine\n');
    await expect(readJournal(fs, dir)).rejects.toThrow(/journal\.ndjson is a symbolic link/);
  });

  it('refuses a journal directory others can write, or one that is a symlink (exit 2)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await fs.chmod(dir, 0o770);
    await expect(appendJournal(fs, dir, { type: 'run', runId: 'r1', at: 't', ...start })).rejects.toThrow(
      /is writable by its group \(mode 770\)/,
    );
    await fs.chmod(dir, 0o700);
    const link = `${dir}-link`;
    await fs.symlink(dir, link);
    await expect(appendJournal(fs, link, { type: 'run', runId: 'r1', at: 't', ...start })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(fs.stat(path.join(dir, 'journal.ndjson'))).rejects.toThrow(/ENOENT/);
  });

  it('says how to resume when the directory has no journal', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await expect(readJournal(fs, dir)).rejects.toThrow(/no journal at/);
  });
});
