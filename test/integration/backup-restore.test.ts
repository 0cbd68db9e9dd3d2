/**
 * Backup and restore against the real API server: round trip of every catalog kind, the
 * conflict policies, server-side dry run, a missing namespace, and -n scoping through the CLI.
 * Every backup here is namespace-scoped (-n) so a restore never touches other tests' objects.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupMesh } from '../../src/backup/backup.ts';
import { restoreBackup } from '../../src/backup/restore.ts';
import { verifyBackup } from '../../src/backup/verify.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import { objectPath } from '../../src/kube/paths.ts';
import { catalog, findKind } from '../../src/mesh/catalog.ts';
import { restorable } from '../../src/backup/sanitize.ts';
import {
  createNamespace,
  deleteAllCatalogObjects,
  deleteNamespace,
  ensureCatalogCrds,
  liveObjects,
  refOf,
  seed,
} from '../fixtures/backups/cluster.ts';
import { kubectl, runTool, testDeps, testKube, uniqueName } from '../support/cluster.ts';

const nsA = uniqueName('bk-a');
const nsB = uniqueName('bk-b');
const tmp: string[] = [];
const newDir = async () => {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-bk-'));
  tmp.push(d);
  return path.join(d, 'backup');
};
let originals: Map<string, KubeObject>;

beforeAll(async () => {
  const kube = await testKube();
  await ensureCatalogCrds(kube);
  await createNamespace(kube, nsA);
  await createNamespace(kube, nsB);
  await seed(kube, nsA, 2);
  await seed(kube, nsB, 1);
  // One object written by kubectl apply carries the last-applied annotation, which backup drops.
  await kubectl(['apply', '-n', nsA, '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'split.smi-spec.io/v1alpha3',
      kind: 'TrafficSplit',
      metadata: { name: 'applied', labels: { via: 'apply' } },
      spec: { service: 'web', backends: [{ service: 'web-v1', weight: 100 }] },
    }),
  });
  originals = await liveObjects(kube, nsA);
});

afterAll(async () => {
  const kube = await testKube();
  await deleteNamespace(kube, nsA);
  await deleteNamespace(kube, nsB);
  for (const d of tmp) await fs.rm(d, { recursive: true, force: true });
});

describe('backup', () => {
  it('writes a verified, cleaned, 0700/0600 backup of every kind in the namespace', async () => {
    const deps = await testDeps();
    const dir = await newDir();
    const s = await backupMesh(deps, { dir, namespace: nsA, concurrency: 4 });
    expect(s.objects).toBe(15);
    expect(Object.fromEntries(s.kinds.map((k) => [k.kind, k.count]))).toEqual({
      HTTPRouteGroup: 2,
      TCPRoute: 2,
      TrafficTarget: 2,
      TrafficSplit: 3,
      RateLimit: 2,
      CircuitBreaker: 2,
      MeshConfig: 2,
    });
    expect(s.kinds.find((k) => k.kind === 'RateLimit')!.version).toBe('v1alpha2');
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    for (const f of ['manifest.json', 'crds.yaml', 'install.yaml', 'resources/trafficsplits.split.smi-spec.io.yaml']) {
      expect((await fs.stat(path.join(dir, f))).mode & 0o777).toBe(0o600);
    }
    const text = await fs.readFile(path.join(dir, 'resources/trafficsplits.split.smi-spec.io.yaml'), 'utf8');
    for (const gone of ['resourceVersion', 'uid:', 'creationTimestamp', 'managedFields', 'last-applied-configuration'])
      expect(text).not.toContain(gone);
    expect(text).toContain('via: apply');
    const crds = await fs.readFile(path.join(dir, 'crds.yaml'), 'utf8');
    expect(crds).toContain('name: trafficsplits.split.smi-spec.io');
    expect((await verifyBackup(fs, dir)).manifest.namespace).toBe(nsA);
  });

  it('is accepted by kubectl create -f (server-side dry run)', async () => {
    const dir = await newDir();
    await backupMesh(await testDeps(), { dir, namespace: nsB, concurrency: 4 });
    const res = await kubectl(['create', '--dry-run=server', '-f', path.join(dir, 'resources')], { reject: false });
    expect(res.stderr).toMatch(/AlreadyExists|already exists/); // the objects exist: the files parsed and were sent
    expect(res.stderr).not.toMatch(/resourceVersion|error parsing|unmarshal/);
  });

  it('refuses to overwrite an existing backup', async () => {
    const dir = await newDir();
    await backupMesh(await testDeps(), { dir, namespace: nsB, concurrency: 2 });
    await expect(backupMesh(await testDeps(), { dir, namespace: nsB, concurrency: 2 })).rejects.toThrow(
      /already holds a backup/,
    );
  });

  it('-n scoping through the CLI: only that namespace, -o json summary', async () => {
    const dir = await newDir();
    const res = await runTool(['backup', '-n', nsB, '--dir', dir, '-o', 'json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout) as { objects: number; kinds: { kind: string; count: number }[] };
    expect(summary.objects).toBe(7);
    const b = await verifyBackup(fs, dir);
    for (const k of b.kinds) for (const o of k.objects) expect(o.metadata!.namespace).toBe(nsB);
  });
});

describe('restore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await newDir();
    await backupMesh(await testDeps(), { dir, namespace: nsA, concurrency: 4 });
  });

  it('round trip: every kind comes back with equal spec, labels and annotations', async () => {
    const kube = await testKube();
    await deleteAllCatalogObjects(kube, nsA);
    expect((await liveObjects(kube, nsA)).size).toBe(0);
    const report = await restoreBackup(await testDeps(), {
      dir,
      onConflict: 'skip',
      dryRun: false,
      timeoutMs: 60_000,
      concurrency: 8,
    });
    expect(report.counts.created).toBe(15);
    expect(report.unresolved).toBe(0);
    expect(report.items.every((i) => i.verified)).toBe(true);
    const live = await liveObjects(kube, nsA);
    expect([...live.keys()].sort()).toEqual([...originals.keys()].sort());
    for (const [key, o] of originals) {
      const { spec, labels, annotations } = restorable(o);
      expect(restorable(live.get(key)!), key).toEqual({ spec, labels, annotations });
    }
    const saved = JSON.parse(await fs.readFile(path.join(dir, 'restore-report.json'), 'utf8')) as {
      unresolved: number;
    };
    expect(saved.unresolved).toBe(0);
  });

  it('running it again is idempotent: everything unchanged', async () => {
    const report = await restoreBackup(await testDeps(), {
      dir,
      onConflict: 'fail',
      dryRun: false,
      timeoutMs: 60_000,
      concurrency: 8,
    });
    expect(report.counts.unchanged).toBe(15);
    expect(report.unresolved).toBe(0);
  });

  describe('with one object changed after the backup', () => {
    const ts = findKind('TrafficSplit')!;
    const path0 = () => objectPath(refOf(ts), 'trafficsplit-0', nsA);
    beforeAll(async () => {
      await (
        await testKube()
      ).request({
        method: 'PATCH',
        path: path0(),
        body: {
          spec: {
            backends: [
              { service: 'web-0-v1', weight: 50 },
              { service: 'web-0-v2', weight: 50 },
            ],
          },
        },
      });
    });

    it('skip: keeps it, reports it as differing, exit 4 through the CLI', async () => {
      const res = await runTool(['restore', '--from', dir]);
      expect(res.exitCode, res.stderr).toBe(4);
      expect(res.stdout).toMatch(/differs: TrafficSplit .*\/trafficsplit-0/);
      expect(res.stderr).toMatch(/--on-conflict overwrite/);
      const live = await (await testKube()).request<KubeObject>({ path: path0() });
      expect((live.spec as { backends: { weight: number }[] }).backends[0]!.weight).toBe(50);
    });

    it('fail: stops at the conflict and reports it', async () => {
      const report = await restoreBackup(await testDeps(), {
        dir,
        onConflict: 'fail',
        dryRun: false,
        timeoutMs: 60_000,
        concurrency: 1,
      });
      expect(report.counts.conflict).toBe(1);
      expect(report.unresolved).toBeGreaterThanOrEqual(1);
    });

    it('dry-run overwrite changes nothing', async () => {
      const report = await restoreBackup(await testDeps(), {
        dir,
        onConflict: 'overwrite',
        dryRun: true,
        timeoutMs: 60_000,
        concurrency: 8,
      });
      expect(report.counts.overwritten).toBe(1);
      const live = await (await testKube()).request<KubeObject>({ path: path0() });
      expect((live.spec as { backends: { weight: number }[] }).backends[0]!.weight).toBe(50);
    });

    it('overwrite: replaces it with the backup, exit 0', async () => {
      const res = await runTool(['restore', '--from', dir, '--on-conflict', 'overwrite']);
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/overwritten 1/);
      const live = await (await testKube()).request<KubeObject>({ path: path0() });
      expect((live.spec as { backends: { weight: number }[] }).backends[0]!.weight).toBe(90);
    });
  });

  it('dry-run: server-side, nothing is created', async () => {
    const kube = await testKube();
    await deleteAllCatalogObjects(kube, nsA);
    const report = await restoreBackup(await testDeps(), {
      dir,
      onConflict: 'skip',
      dryRun: true,
      timeoutMs: 60_000,
      concurrency: 8,
    });
    expect(report.counts.created).toBe(15);
    expect(report.unresolved).toBe(0);
    expect((await liveObjects(kube, nsA)).size).toBe(0);
  });

  it('a missing namespace is reported, never created, and leaves the restore unconverged', async () => {
    const kube = await testKube();
    const gone = uniqueName('bk-gone');
    await createNamespace(kube, gone);
    await seed(kube, gone, 1);
    const d = await newDir();
    await backupMesh(await testDeps(), { dir: d, namespace: gone, concurrency: 4 });
    await deleteNamespace(kube, gone); // Terminating at once (refuses new objects), gone later
    const report = await restoreBackup(await testDeps(), {
      dir: d,
      onConflict: 'skip',
      dryRun: false,
      timeoutMs: 30_000,
      concurrency: 8,
    });
    expect(report.counts['missing-namespace']).toBe(catalog.length);
    expect(report.missingNamespaces).toEqual([gone]);
    expect(report.unresolved).toBe(catalog.length);
    const after = await kubectl(['get', 'ns', gone, '-o', 'jsonpath={.status.phase}'], { reject: false });
    expect(after.exitCode === 0 ? after.stdout : 'gone').toMatch(/Terminating|gone/); // never re-created
  });
});
