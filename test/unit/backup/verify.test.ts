import fs from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyBackup } from '../../../src/backup/verify.ts';
import { UsageError } from '../../../src/errors.ts';
import { hostileCases, validFiles, writeFixture } from '../../fixtures/backups/build.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe('verifyBackup', () => {
  it('accepts a valid backup and returns its objects by kind', async () => {
    const dir = await writeFixture({ files: validFiles('shop') });
    dirs.push(dir);
    const b = await verifyBackup(fs, dir);
    expect(b.kinds.map((k) => [k.row.kind, k.version, k.objects.length])).toEqual([
      ['TrafficSplit', 'v1alpha3', 1],
      ['RateLimit', 'v1alpha2', 1],
    ]);
    expect(b.kinds[0]!.objects[0]!.metadata).toEqual({ name: 'web', namespace: 'shop', labels: { app: 'web' } });
    expect(b.install).toEqual({ helmRelease: null, meshConfigMap: null });
  });

  it('refuses objects outside a namespace-scoped backup', async () => {
    const dir = await writeFixture({ files: validFiles('other'), namespace: 'shop' });
    dirs.push(dir);
    await expect(verifyBackup(fs, dir)).rejects.toThrow(/outside the backup's scope shop/);
  });

  for (const c of hostileCases('shop')) {
    it(`refuses: ${c.name}`, async () => {
      const dir = await c.build();
      dirs.push(dir);
      const err = await verifyBackup(fs, dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as UsageError).message).toMatch(c.expect);
    });
  }

  it('refuses a manifest that is not JSON, with the file named', async () => {
    const dir = await writeFixture({ files: [] });
    dirs.push(dir);
    await fs.writeFile(`${dir}/manifest.json`, '{"formatVersion": 1,');
    await expect(verifyBackup(fs, dir)).rejects.toThrow(/manifest.json: not valid JSON/);
  });
});
