/**
 * The upgrade's verify step only reads: compareWithBackup reports what is missing or differs from
 * the backup on the real API server, and re-creates nothing.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupMesh } from '../../src/backup/backup.ts';
import { compareWithBackup } from '../../src/backup/compare.ts';
import { catalog } from '../../src/mesh/catalog.ts';
import { objectPath } from '../../src/kube/paths.ts';
import {
  createNamespace,
  deleteNamespace,
  ensureCatalogCrds,
  liveObjects,
  refOf,
  seed,
} from '../fixtures/backups/cluster.ts';
import { testDeps, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('bk-compare');
let tmp: string;

beforeAll(async () => {
  const kube = await testKube();
  await ensureCatalogCrds(kube);
  await createNamespace(kube, ns);
  await seed(kube, ns, 2);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-compare-'));
});

afterAll(async () => {
  await deleteNamespace(await testKube(), ns);
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('compareWithBackup', () => {
  it('reports the missing and the changed objects, and leaves the cluster as it is', async () => {
    const kube = await testKube();
    const dir = path.join(tmp, 'backup');
    const summary = await backupMesh(await testDeps(), { dir, namespace: ns, concurrency: 4 });
    expect((await compareWithBackup(await testDeps(), { dir })).differences).toEqual([]);

    const split = catalog.find((k) => k.kind === 'TrafficSplit')!;
    const limit = catalog.find((k) => k.kind === 'RateLimit')!;
    await kube.request({ method: 'DELETE', path: objectPath(refOf(split), 'trafficsplit-0', ns) });
    await kube.request({
      method: 'PATCH',
      path: objectPath(refOf(limit), 'ratelimit-1', ns),
      body: { spec: { rate: '999r/s' } },
    });
    const before = await liveObjects(kube, ns);

    const r = await compareWithBackup(await testDeps(), { dir });
    expect(r.objects).toBe(summary.objects);
    expect(r.differences).toEqual(
      expect.arrayContaining([
        { kind: 'TrafficSplit', namespace: ns, name: 'trafficsplit-0', state: 'missing' },
        { kind: 'RateLimit', namespace: ns, name: 'ratelimit-1', state: 'differs' },
      ]),
    );
    expect(r.differences).toHaveLength(2);
    // Read-only: the missing object is still missing, nothing else changed.
    const after = await liveObjects(kube, ns);
    expect(after.has('TrafficSplit/trafficsplit-0')).toBe(false);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  });
});
