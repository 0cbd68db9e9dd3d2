/**
 * Bad input to `rollback` is refused with exit 2 (a UsageError) before the cluster is read, and nothing is
 * written: no --from or an unknown flag (yargs), a directory that holds no upgrade run, a damaged upgrade
 * journal, --resume with no rollback started. These were CLI runs against the test cluster
 * (test/integration/rollback-badinput.test.ts keeps one, for the wiring); what decides them reads only the
 * directory, so they run here on the same code without a cluster: the kube client throws if it is called.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/app.ts';
import { startRollbackFresh, startRollbackResume } from '../../../src/cli/rollback-start.ts';
import type { Deps } from '../../../src/deps.ts';
import { ExitCode, UsageError } from '../../../src/errors.ts';
import type { RollbackArgs } from '../../../src/rollback/inputs.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-rollback-bad-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const noCluster = new Proxy(
  {},
  {
    get: () => {
      throw new Error('the cluster was read: bad input must be refused before');
    },
  },
);
const deps = {
  fs: fs.promises,
  kube: noCluster,
  exec: noCluster,
  clock: noCluster,
  log: { info() {}, warn() {}, debug() {} },
} as unknown as Deps;
const args = (from: string): RollbackArgs => ({ from, allHops: false, force: false, timeout: '10m' });

function dir(name: string, journal?: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { mode: 0o700 });
  if (journal !== undefined) fs.writeFileSync(path.join(d, 'journal.ndjson'), journal, { mode: 0o600 });
  return d;
}

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(ExitCode.usage);
  expect((err as Error).message).toMatch(message);
}

describe('rollback: bad input, exit 2, nothing written', () => {
  it('no --from, an unknown flag: usage errors', async () => {
    for (const [argv, message] of [
      [['rollback', '--yes'], /Missing required argument: from/],
      [['rollback', '--from', tmp, '--to', '1.6.0'], /Unknown argument: to/],
    ] as const) {
      let err = '';
      expect(await runCli([...argv], { out: () => {}, err: (t) => (err += t) })).toBe(2);
      expect(err).toMatch(message);
    }
  });

  it('a directory that is missing, or holds no upgrade journal', async () => {
    await refused(startRollbackFresh(deps, args(path.join(tmp, 'missing'))), /no upgrade journal in .*missing/);
    const empty = dir('empty');
    await refused(startRollbackFresh(deps, args(empty)), /no upgrade journal in .*empty/);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  it('--resume with no rollback started', async () => {
    const empty = dir('never-rolled-back');
    await refused(startRollbackResume(deps, args(empty)), /no rollback was started from .*never-rolled-back/);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  it('a damaged upgrade journal', async () => {
    const damaged = dir('damaged', '{"type":"step","runId":"x","at":"t","step":"hop1.backup","status":"done"}\n');
    await refused(startRollbackFresh(deps, args(damaged)), /the first record must be the run record/);
    expect(fs.readdirSync(damaged)).toEqual(['journal.ndjson']);
  });
});
