import { describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { checkBinaries, type PreflightInput } from '../../../src/preflight/preflight.ts';

/** A helm-path plan with one command, and a runner whose `helm version` prints `stdout`. */
async function helmCheck(stdout: string) {
  const plan = {
    hops: [
      {
        method: 'helm',
        from: '1.6.0',
        to: '1.7.0',
        steps: [{ id: 'hop1.upgrade', kind: 'upgrade', commands: [{ bin: 'helm', args: ['upgrade'] }] }],
      },
    ],
  };
  const deps = { exec: { run: async () => ({ stdout, stderr: '', exitCode: 0 }) } } as unknown as Deps;
  return checkBinaries(deps, { plan } as unknown as PreflightInput);
}

describe('checkBinaries: the helm version', () => {
  it.each([
    ['v3.14.0+g3fc9f4b', true],
    ['v3.17.2+gcc0bbbd', true],
    ['v4.0.1+g1234567', true],
    ['v3.13.3+gc8b9489', false],
    ['v2.17.0+ga690bad', false],
    ['v5.0.0', false],
    ['not helm', false],
  ] as const)('%s is accepted: %s', async (stdout, ok) => {
    const failures = await helmCheck(stdout);
    expect(failures.length === 0).toBe(ok);
    if (!ok) expect(failures[0]!.message).toMatch(/needs Helm 3.14\+ or Helm 4/);
  });
});
