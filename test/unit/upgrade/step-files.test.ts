/**
 * The upgrade's restore and verify read a hop's backup only while it is the one its backup step
 * wrote (the manifest's sha256 journaled then), as a rollback does; and a step's files are created
 * new, never through a symlink planted where they go.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { StepError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import { executeStep, type StepContext } from '../../../src/engine/executors.ts';
import { writeStepFiles } from '../../../src/engine/step-files.ts';
import type { Hop, Plan, Step } from '../../../src/engine/types.ts';

let dir: string;
let apiCalls: number;
const manifest = '{"formatVersion":1}\n';
const sha = createHash('sha256').update(manifest).digest('hex');

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'step-files-'));
  await fs.mkdir(path.join(dir, 'hop1'), { mode: 0o700 });
  await fs.writeFile(path.join(dir, 'hop1', 'manifest.json'), manifest, { mode: 0o600 });
  apiCalls = 0;
});

function context(kind: 'restore' | 'verify', journaled: Record<string, unknown> | undefined): StepContext {
  const hopDir = path.join(dir, 'hop1');
  const backup = {
    id: 'hop1.backup',
    kind: 'backup',
    title: 'b',
    destructive: false,
    writes: false,
    commands: [],
    params: { dir: hopDir, namespace: 'nginx-mesh', meshVersion: '1.6.0' },
  } as Step;
  const step = (
    kind === 'restore'
      ? {
          id: 'hop1.restore',
          kind,
          title: 'r',
          destructive: false,
          writes: true,
          commands: [],
          params: { from: hopDir, targetVersion: '1.7.0' },
        }
      : {
          id: 'hop1.verify',
          kind,
          title: 'v',
          destructive: false,
          writes: false,
          commands: [],
          params: { version: '1.7.0', namespace: 'nginx-mesh', deployment: 'nginx-mesh-api', backup: hopDir },
        }
  ) as Step;
  const hop = {
    index: 1,
    from: '1.6.0',
    to: '1.7.0',
    strategy: 'manual',
    reason: 'r',
    method: 'meshctl',
    steps: [backup, step],
  } as Hop;
  const plan = {
    from: '1.6.0',
    to: '1.7.0',
    namespace: 'nginx-mesh',
    method: 'meshctl',
    environment: 'kubernetes',
    release: 'nginx-service-mesh',
    hops: [hop],
    warnings: [],
    refusals: [],
  } as Plan;
  const deps = {
    fs,
    kube: {
      request: async () => {
        apiCalls++;
        throw new Error('the API server is not reachable');
      },
    },
    log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
  } as unknown as Deps;
  return {
    deps,
    plan,
    hop,
    step,
    timeoutMs: 1000,
    concurrency: 1,
    restart: 'behind',
    deleteBarePods: false,
    journalData: new Map(journaled ? [['hop1.backup', journaled]] : []),
    progress: () => undefined,
    signal: new AbortController().signal,
    guard: { cluster: { server: 's', uid: 'u' }, leaseHeld: async () => undefined },
  };
}

describe('restore and verify refuse a backup that is not the one the run took', () => {
  for (const kind of ['restore', 'verify'] as const) {
    it(`${kind}: a manifest other than the journaled one is refused before anything is read or applied`, async () => {
      const err = await executeStep(context(kind, { manifestSha256: 'f'.repeat(64) })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `step "hop1.${kind}" failed: the backup .*hop1 is refused: its manifest.json is not the one the run wrote \\(sha256 ${sha}, the journal recorded f{64}\\)`,
        ),
      );
      expect(apiCalls).toBe(0);
    });
    it(`${kind}: a journal without the manifest's hash pins nothing: refused too`, async () => {
      await expect(executeStep(context(kind, {}))).rejects.toThrow(/records no hash of its manifest.json/);
      expect(apiCalls).toBe(0);
    });
    it(`${kind}: the journaled manifest goes on to read the backup`, async () => {
      // The backup holds nothing else here: what follows (verifyBackup, the API) fails on its own account.
      const err = await executeStep(context(kind, { manifestSha256: sha })).catch((e: unknown) => e);
      expect((err as Error).message).not.toMatch(/is refused/);
    });
  }
});

describe("a step's files", () => {
  it('are created new, 0600: a symlink planted where the values file goes is replaced, its target untouched', async () => {
    const victim = path.join(dir, 'victim');
    await fs.writeFile(victim, 'mine\n');
    const file = path.join(dir, 'hop1', 'values-1.7.0.yaml');
    await fs.symlink(victim, file);
    await writeStepFiles(context('restore', undefined), [
      { path: file, content: { secret: new Secret('pw', 'registry.password') } },
    ]);
    expect(await fs.readFile(victim, 'utf8')).toBe('mine\n');
    expect((await fs.lstat(file)).isSymbolicLink()).toBe(false);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(file, 'utf8')).toBe('pw');
  });
});
