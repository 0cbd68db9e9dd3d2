/**
 * Without --meshctl, the binary a step needs is found on PATH by its own `version`: a plain
 * nginx-meshctl of another version earlier on PATH is passed over, and the plan says which file was
 * chosen and why. Nothing on PATH: the plan is refused (exit 2) naming what to install or pass.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropNamespace, plantMesh } from './detect-plant.ts';
import { escapeRegExp, repoRoot, runTool, uniqueName } from '../support/cluster.ts';

const mesh = uniqueName('meshctl-path');
const standIn = (v: string) => path.join(repoRoot, 'test/fixtures/meshctl', v);
beforeAll(async () => {
  await plantMesh(mesh, { version: '1.6.0', releases: [{}] });
});
afterAll(async () => {
  await dropNamespace(mesh);
});

describe('nginx-meshctl found on PATH', () => {
  it('uses the file whose version matches the step and names it in the plan', async () => {
    const PATH = [standIn('1.6.0'), standIn('1.7.0'), '/usr/bin', '/bin'].join(path.delimiter);
    const r = await runTool(['plan', '--to', '1.7.0', '--mesh-namespace', mesh], { env: { PATH } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`\\$ ${escapeRegExp(standIn('1.7.0'))}/nginx-meshctl -k \\S+/kubeconfig\\.private -n ${mesh}`),
    );
    expect(r.stdout).toContain(
      `1.7.0: ${standIn('1.7.0')}/nginx-meshctl  (found on PATH: \`nginx-meshctl version\` says 1.7.0 (passed over ${standIn('1.6.0')}/nginx-meshctl: it is 1.6.0))`,
    );
  });

  it('refuses with exit 2 naming what to install or pass when PATH has no binary of that version', async () => {
    const r = await runTool(['plan', '--to', '1.7.0', '--mesh-namespace', mesh], {
      env: { PATH: [standIn('1.6.0'), '/usr/bin', '/bin'].join(path.delimiter) },
    });
    expect(r.exitCode).toBe(2);
    expect(r.stdout + r.stderr).toContain(
      'install nginx-meshctl 1.7.0 on PATH as nginx-meshctl-1.7.0, nginx-meshctl-v1.7.0 or nginx-meshctl',
    );
  });
});
