/**
 * Hostile and damaged backup directories through the real CLI: each is refused with exit 2,
 * an error naming the file and the problem, and nothing applied to the cluster.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileCases } from '../fixtures/backups/build.ts';
import { createNamespace, deleteNamespace, ensureCatalogCrds, liveObjects } from '../fixtures/backups/cluster.ts';
import { kubectl, runTool, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('bk-hostile');
const dirs: string[] = [];

beforeAll(async () => {
  const kube = await testKube();
  await ensureCatalogCrds(kube);
  await createNamespace(kube, ns);
});

afterAll(async () => {
  await deleteNamespace(await testKube(), ns);
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe('restore refuses hostile backups (exit 2, nothing applied)', () => {
  for (const c of hostileCases(ns)) {
    it(c.name, async () => {
      const dir = await c.build();
      dirs.push(dir);
      const res = await runTool(['restore', '--from', dir, '--on-conflict', 'overwrite']);
      expect(res.exitCode, res.stderr).toBe(2);
      expect(res.stderr).toMatch(c.expect);
      expect(res.stderr).toMatch(/Nothing was applied|manifest.json/);
      expect((await liveObjects(await testKube(), ns)).size).toBe(0);
      // The ClusterRoleBinding smuggled into a TrafficSplit file must not exist either.
      expect((await kubectl(['get', 'clusterrolebinding', 'pwn'], { reject: false })).exitCode).not.toBe(0);
    });
  }

  it('a restore that is refused writes no report into the directory', async () => {
    const dir = await hostileCases(ns)[0]!.build();
    dirs.push(dir);
    await runTool(['restore', '--from', dir]);
    await expect(fs.stat(`${dir}/restore-report.json`)).rejects.toThrow(/ENOENT/);
  });
});
