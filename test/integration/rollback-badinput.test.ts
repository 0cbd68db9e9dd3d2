/**
 * Bad input to `rollback` is refused with exit 2 and nothing changed: no --from, a directory that
 * holds no upgrade run, --resume with no rollback started, a damaged upgrade journal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from '../support/cluster.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-rollback-bad-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('rollback: bad input, exit 2', () => {
  it('refuses each with the fix named, writing nothing', async () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty, { mode: 0o700 });
    const damaged = path.join(tmp, 'damaged');
    fs.mkdirSync(damaged, { mode: 0o700 });
    fs.writeFileSync(path.join(damaged, 'journal.ndjson'), '{"type":"step","runId":"x","at":"t","step":"hop1.backup","status":"done"}\n', { mode: 0o600 });
    const cases: [string[], RegExp][] = [
      [['rollback', '--yes'], /Missing required argument: from/],
      [['rollback', '--from', path.join(tmp, 'missing'), '--yes'], /no upgrade journal in .*missing/],
      [['rollback', '--from', empty, '--yes'], /no upgrade journal in .*empty/],
      [['rollback', '--from', empty, '--resume', '--yes'], /no rollback was started from .*empty/],
      [['rollback', '--from', damaged, '--yes'], /the first record must be the run record/],
      [['rollback', '--from', empty, '--to', '1.6.0'], /Unknown argument: to/],
    ];
    for (const [args, message] of cases) {
      const r = await runTool(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(fs.readdirSync(empty)).toEqual([]);
    expect(fs.readdirSync(damaged)).toEqual(['journal.ndjson']);
  });
});
