/**
 * Finding nginx-meshctl on PATH as users have it: versioned names first, a plain nginx-meshctl only
 * when its own `version` names the version the step needs, and the plan says which file and why.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command, CommandResult } from '../../../src/exec/runner.ts';
import { findMeshctlOnPath, pathCandidates, pathDirectories } from '../../../src/controlplane/meshctl-path.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { formatPlanText } from '../../../src/cli/plan-format.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

let tmp: string;
const versions: Record<string, string> = {};

async function binary(rel: string, version: string | undefined, mode = 0o755): Promise<string> {
  const p = path.join(tmp, rel);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, '#!/bin/sh\n', { mode });
  if (version) versions[p] = version;
  return p;
}

/** `version` answers from the table above, as the real binary's first line. */
function fakeExec() {
  const ran: string[] = [];
  return {
    ran,
    exec: {
      dryRun: false,
      stopAll: async () => undefined,
      signalAll: () => undefined,
      async run(cmd: Command): Promise<CommandResult> {
        ran.push(cmd.bin);
        const v = versions[cmd.bin];
        return {
          exitCode: 0,
          stdout: v ? `nginx-meshctl - v${v}\nUnable to get versions for remaining components` : 'something else',
          stderr: '',
          skipped: false,
        };
      },
    },
  };
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-meshctl-path-'));
  await binary('a/nginx-meshctl', '1.7.0');
  await binary('b/nginx-meshctl-2.0.0', '2.0.0');
  await binary('b/nginx-meshctl', '2.0.0');
  await binary('c/nginx-meshctl-v1.6.0', '1.6.0');
  await binary('d/nginx-meshctl-1.7.0', undefined);
  await binary('e/nginx-meshctl-1.6.0', '1.6.0', 0o644);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('PATH candidates', () => {
  it('tries nginx-meshctl-<v> and nginx-meshctl-v<v> in every directory before any plain nginx-meshctl', () => {
    expect(pathCandidates(['/x', '/y'], '2.0.0')).toEqual([
      '/x/nginx-meshctl-2.0.0',
      '/x/nginx-meshctl-v2.0.0',
      '/y/nginx-meshctl-2.0.0',
      '/y/nginx-meshctl-v2.0.0',
      '/x/nginx-meshctl',
      '/y/nginx-meshctl',
    ]);
    expect(pathDirectories(['/x', '', 'rel', '/y'].join(path.delimiter))).toEqual(['/x', '/y']);
  });
});

describe('findMeshctlOnPath', () => {
  it('uses the file whose own version matches, says why, and passes over the ones that do not', async () => {
    const dirs = ['d', 'a', 'b', 'c', 'e'].map((d) => path.join(tmp, d));
    const f = fakeExec();
    const found = await findMeshctlOnPath({ fs, exec: f.exec }, dirs, ['1.7.0', '2.0.0', '1.6.0', '1.5.0']);
    expect(found['1.7.0']).toMatchObject({ path: path.join(tmp, 'a/nginx-meshctl') });
    expect(found['1.7.0']!.why).toBe(
      `found on PATH: \`nginx-meshctl version\` says 1.7.0 (passed over ${path.join(tmp, 'd/nginx-meshctl-1.7.0')}: no version)`,
    );
    expect(found['2.0.0']!.path).toBe(path.join(tmp, 'b/nginx-meshctl-2.0.0'));
    expect(found['1.6.0']!.path).toBe(path.join(tmp, 'c/nginx-meshctl-v1.6.0'));
    expect(found['1.5.0']).toBeUndefined();
    // Not executable: never run. Each file's version asked once.
    expect(f.ran).not.toContain(path.join(tmp, 'e/nginx-meshctl-1.6.0'));
    expect(f.ran.length).toBe(new Set(f.ran).size);
  });
});

describe('the plan names the binaries found on PATH', () => {
  const install: Install = {
    namespace: 'nginx-mesh',
    version: '1.7.0',
    method: 'meshctl',
    release: 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.7.0',
    environment: 'kubernetes',
    values: {},
    controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.7.0' },
    warnings: [],
  };
  const opts: PlanOptions = {
    to: '2.0.0',
    strategy: 'in-place',
    meshctlBinaries: { '1.7.0': '/p/nginx-meshctl', '2.0.0': '/p/nginx-meshctl-2.0.0' },
    meshctlFound: {
      '1.7.0': { path: '/p/nginx-meshctl', why: 'found on PATH: 1.7.0' },
      '2.0.0': { path: '/p/nginx-meshctl-2.0.0', why: 'found on PATH: `nginx-meshctl-2.0.0 version` says 2.0.0' },
    },
    helm: undefined,
    chart: { kind: 'repo', ref: 'x' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/b',
    timeout: '10m',
  };
  it('lists only the ones its steps run (in place needs no 1.7.0 binary)', () => {
    const plan = buildPlan(install, opts);
    expect(plan.binaries).toEqual([
      {
        version: '2.0.0',
        path: '/p/nginx-meshctl-2.0.0',
        why: 'found on PATH: `nginx-meshctl-2.0.0 version` says 2.0.0',
      },
    ]);
    expect(formatPlanText(plan)).toContain(
      '2.0.0: /p/nginx-meshctl-2.0.0  (found on PATH: `nginx-meshctl-2.0.0 version` says 2.0.0)',
    );
    expect(buildPlan(install, { ...opts, strategy: 'manual' }).binaries?.map((b) => b.version)).toEqual([
      '1.7.0',
      '2.0.0',
    ]);
    expect(buildPlan(install, { ...opts, meshctlFound: undefined })).not.toHaveProperty('binaries');
  });
});
