/**
 * Bad input to `rollback` is refused with exit 2 and nothing changed. The cases (no --from, a directory
 * that holds no upgrade run, --resume with no rollback started, a damaged upgrade journal, an unknown flag)
 * are decided before the cluster is read and run as unit tests (test/unit/rollback/bad-input.test.ts);
 * this one keeps the wiring: the real CLI, with the test cluster's kubeconfig, prints the error and its
 * fix, exits 2 and writes nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from '../support/cluster.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-rollback-bad-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('rollback: bad input, exit 2', () => {
  it('refuses a damaged upgrade journal: the error, exit 2, nothing written', async () => {
    const damaged = path.join(tmp, 'damaged');
    fs.mkdirSync(damaged, { mode: 0o700 });
    fs.writeFileSync(
      path.join(damaged, 'journal.ndjson'),
      '{"type":"step","runId":"x","at":"t","step":"hop1.backup","status":"done"}\n',
      { mode: 0o600 },
    );
    const r = await runTool(['rollback', '--from', damaged, '--yes']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/the first record must be the run record/);
    expect(fs.readdirSync(damaged)).toEqual(['journal.ndjson']);
  });
});
