/**
 * `fleet` refuses what it cannot do before it reads any cluster or writes anything: exit 2, the fix
 * named. (The runs themselves are in test/integration/fleet.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../../../src/cli/app.ts';
import { commandFlags } from '../../../src/cli/completion-engine.ts';

async function run(args: string[]) {
  let err = '';
  const code = await runCli(args, { out: () => undefined, err: (t) => (err += t) });
  return { code, err };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-cli-'));
const busy = path.join(tmp, 'busy');
fs.mkdirSync(busy);
fs.writeFileSync(path.join(busy, 'something'), 'x');
const shared = path.join(tmp, 'shared');
fs.mkdirSync(shared);
fs.chmodSync(shared, 0o770);
const badFile = path.join(tmp, 'fleet.yaml');
fs.writeFileSync(badFile, 'clusters:\n  - context: a\n    meshctll: ./x\n');

// The first case loads the whole CLI (seconds on a loaded 2-core machine): not the unit default of 5 s.
describe('fleet: usage errors, exit 2, nothing read or written', { timeout: 30_000 }, () => {
  const rows: [string[], RegExp][] = [
    [['fleet', '--to', '2.0.0'], /fleet needs clusters[\s\S]*--contexts a,b,c or --fleet FILE/],
    [['fleet', '--contexts', 'a,b'], /fleet needs a target version/],
    [['fleet', '--contexts', 'a,a', '--to', '2.0.0'], /context a is named twice/],
    [['fleet', '--context', 'a', '--to', '2.0.0'], /fleet takes --contexts \(or --fleet FILE\), not --context/],
    [
      ['fleet', '--contexts', 'a', '--fleet', badFile, '--to', '2.0.0'],
      /--contexts and --fleet both name the clusters/,
    ],
    [['fleet', '--fleet', badFile, '--to', '2.0.0'], /unknown key meshctll/],
    [['fleet', '--fleet', path.join(tmp, 'missing.yaml'), '--to', '2.0.0'], /cannot read --fleet/],
    [['fleet', '--contexts', 'a,b', '--to', '2.0.0', '--canary', 'c'], /--canary c is not a cluster of the fleet/],
    [['fleet', '--contexts', 'a', '--to', '2.0.0', '--soak', 'soon'], /--soak "soon" is not a duration/],
    [['fleet', '--contexts', 'a', '--to', '2.0.0', '--timeout', '0s'], /--timeout "0s" is not a duration/],
    [['fleet', '--contexts', 'a', '--to', '2.0.0', '--max-parallel', '0'], /--max-parallel 0 is out of range/],
    [
      ['fleet', '--contexts', 'a', '--to', '2.0.0', '--backup-dir', busy],
      /the fleet directory .* is not empty[\s\S]*fleet --resume/,
    ],
    [
      ['fleet', '--contexts', 'a', '--to', '2.0.0', '--backup-dir', shared],
      /--backup-dir .*shared is writable by its group \(mode 770\)[\s\S]*chmod 700/,
    ],
    [['fleet', '--resume', path.join(tmp, 'nowhere')], /no fleet record at/],
    [['fleet', '--contexts', 'a', '--to', '2.0.0', '--on-failure', 'retry'], /Invalid values:[\s\S]*on-failure/],
    [['status', '--contexts', 'a', '--context', 'b'], /status takes --context or --contexts, not both/],
  ];
  for (const [args, msg] of rows) {
    it(args.join(' ').replace(tmp, 'TMP'), async () => {
      const r = await run(args);
      expect(r.err).toMatch(msg);
      expect(r.code).toBe(2);
    });
  }
  it('--on-failure rollback: refused up front while the upgrade does not take --on-failure, passed on once it does', async () => {
    const r = await run([
      'fleet',
      '--contexts',
      'a',
      '--to',
      '2.0.0',
      '--on-failure',
      'rollback',
      '--backup-dir',
      busy,
    ]);
    if (commandFlags(buildCli, '$0').has('on-failure')) {
      expect(r.err).toMatch(/is not empty/); // past the check: on to the fleet directory
    } else {
      expect(r.err).toMatch(
        /--on-failure rollback is passed to each cluster's upgrade, which does not take --on-failure in this version/,
      );
    }
    expect(r.code).toBe(2);
  });
  it('left no fleet directory behind', () => {
    expect(fs.readdirSync(tmp).sort()).toEqual(['busy', 'fleet.yaml', 'shared']);
    expect(fs.readdirSync(shared)).toEqual([]);
    expect(fs.statSync(shared).mode & 0o777).toBe(0o770);
  });
});
