import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/app.ts';
import { formatCommand } from '../../../src/exec/runner.ts';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('command line', () => {
  it('exits 2 and names the problem for an unknown flag or command', async () => {
    const a = await run(['--no-such-flag']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/Unknown argument/);
    const b = await run(['frobnicate']);
    expect(b.code).toBe(2);
  });
  it('exits 2 for a bad choice', async () => {
    const r = await run(['--strategy', 'sideways']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/strategy/);
  });
  it('renders commands for display without a shell', () => {
    expect(formatCommand({ bin: 'helm', args: ['upgrade', 'nsm', 'a b', "it's"] })).toBe(
      `helm upgrade nsm 'a b' 'it'\\''s'`,
    );
  });
});
