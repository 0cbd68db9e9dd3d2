/**
 * Issue 23, "restore keeps what the backup holds", against the real API server (its garbage
 * collector runs): TrafficSplits owned by a live object keep their owner references through
 * backup -> delete -> restore; one whose owner is gone comes back without it (a reference to a
 * missing UID would make the garbage collector delete it) and the restore says so; finalizers are
 * recorded, not set again, and said; verify (compareWithBackup) sees a kept owner reference that
 * went missing.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupMesh } from '../../src/backup/backup.ts';
import { compareWithBackup } from '../../src/backup/compare.ts';
import { restoreBackup } from '../../src/backup/restore.ts';
import type { Kube, KubeObject } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { findKind } from '../../src/mesh/catalog.ts';
import { createNamespace, deleteNamespace, ensureCatalogCrds, refOf } from '../fixtures/backups/cluster.ts';
import { kubectl, runTool, testDeps, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('owners');
const ts = refOf(findKind('TrafficSplit')!);
const tsPath = (name: string) => objectPath(ts, name, ns);
let kube: Kube;
let dir: string;
const uids: Record<string, string> = {};

const ownerRef = (kind: string, apiVersion: string, name: string) => ({
  apiVersion,
  kind,
  name,
  uid: uids[name]!,
  controller: false,
  blockOwnerDeletion: false,
});
const split = (name: string, meta: Record<string, unknown>) => ({
  apiVersion: `${ts.group}/${ts.version}`,
  kind: 'TrafficSplit',
  metadata: { name, namespace: ns, labels: { app: name }, ...meta },
  spec: { service: name, backends: [{ service: `${name}-v1`, weight: 100 }] },
});
const ownersOf = (o: KubeObject) =>
  ((o.metadata as { ownerReferences?: { kind: string; name: string; uid: string }[] }).ownerReferences ?? []).map(
    (r) => `${r.kind}/${r.name}/${r.uid}`,
  );

async function waitGone(p: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await kube.request({ path: p });
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p} was not deleted`);
}

beforeAll(async () => {
  kube = await testKube();
  await ensureCatalogCrds(kube);
  await createNamespace(kube, ns);
  dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-owners-')), 'backup');
  // Stand-ins for a progressive-delivery controller's Canary: a ConfigMap that stays, one that goes,
  // and the namespace itself (a cluster-scoped owner of another API group path).
  for (const name of ['canary-live', 'canary-gone']) {
    const cm = await kube.request<KubeObject>({
      method: 'POST',
      path: collectionPath(core.configmaps, ns),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } },
    });
    uids[name] = cm.metadata!.uid as string;
  }
  uids[ns] = (await kube.request<KubeObject>({ path: objectPath(core.namespaces, ns) })).metadata!.uid as string;
  await kube.request({
    method: 'POST',
    path: collectionPath(ts, ns),
    body: split('owned', {
      ownerReferences: [ownerRef('ConfigMap', 'v1', 'canary-live'), ownerRef('Namespace', 'v1', ns)],
    }),
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(ts, ns),
    body: split('orphaned', { ownerReferences: [ownerRef('ConfigMap', 'v1', 'canary-gone')] }),
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(ts, ns),
    body: split('finalized', { finalizers: ['example.com/keep'] }),
  });
});

afterAll(async () => {
  await kube
    .request({ method: 'PATCH', path: tsPath('finalized'), body: { metadata: { finalizers: null } } })
    .catch(() => undefined);
  await deleteNamespace(kube, ns);
  await fs.rm(path.dirname(dir), { recursive: true, force: true });
});

describe('owner references and finalizers through backup -> delete -> restore', () => {
  it('the backup keeps them as annotations: the file stays `kubectl create -f` ready', async () => {
    await backupMesh(await testDeps(), { dir, namespace: ns, concurrency: 4 });
    const file = path.join(dir, 'resources/trafficsplits.split.smi-spec.io.yaml');
    const text = await fs.readFile(file, 'utf8');
    expect(text).not.toMatch(/^\s+(ownerReferences|finalizers):/m);
    expect(text).toContain('nsm-upgrade.nginx.com/owner-references');
    expect(text).toContain(uids['canary-live']);
    expect(text).toContain(uids['canary-gone']);
    expect(text).toContain('example.com/keep');
    const dry = await kubectl(['create', '--dry-run=server', '-f', file, '-o', 'name'], { reject: false });
    // The objects exist: the server answers AlreadyExists for each, nothing else (the file parses and validates).
    const errors = dry.stderr.trim().split('\n');
    expect(
      errors.length === 3 && errors.every((l) => l.startsWith('Error from server (AlreadyExists)')),
      dry.stderr,
    ).toBe(true);
  });

  it('restore: keeps the owner that still exists with its UID, drops and reports the one that is gone, reports the finalizer', async () => {
    await kube.request({ method: 'PATCH', path: tsPath('finalized'), body: { metadata: { finalizers: null } } });
    await kube.request({ method: 'DELETE', path: objectPath(core.configmaps, 'canary-gone', ns) });
    // The garbage collector deletes 'orphaned' with its owner; the others are deleted by hand.
    for (const name of ['owned', 'orphaned', 'finalized'])
      await kube.request({ method: 'DELETE', path: tsPath(name) }).catch(() => undefined);
    for (const name of ['owned', 'orphaned', 'finalized']) await waitGone(tsPath(name));

    const res = await runTool(['restore', '--from', dir]);
    expect(res.exitCode, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toContain('owner references not set again: 1');
    expect(res.stdout).toMatch(
      new RegExp(
        `owner reference dropped: TrafficSplit ${ns}/orphaned: owner ConfigMap canary-gone \\(uid ${uids['canary-gone']}\\): the owner ConfigMap canary-gone no longer exists`,
      ),
    );
    expect(res.stdout).toMatch(new RegExp(`finalizers not set again: TrafficSplit ${ns}/finalized: example.com/keep`));
    expect(res.stdout).toContain('all objects restored and verified');

    // Give the garbage collector time to act: a dangling owner reference would delete the object.
    await new Promise((r) => setTimeout(r, 3000));
    const owned = await kube.request<KubeObject>({ path: tsPath('owned') });
    expect(ownersOf(owned)).toEqual([`ConfigMap/canary-live/${uids['canary-live']}`, `Namespace/${ns}/${uids[ns]}`]);
    expect(owned.metadata!.annotations ?? {}).not.toHaveProperty(['nsm-upgrade.nginx.com/owner-references']);
    expect(ownersOf(await kube.request<KubeObject>({ path: tsPath('orphaned') }))).toEqual([]);
    expect((await kube.request<KubeObject>({ path: tsPath('finalized') })).metadata!.finalizers ?? []).toEqual([]);
  });

  it('restore -o json names each dropped owner reference and finalizer in the per-object results', async () => {
    const res = await runTool(['restore', '--from', dir, '-o', 'json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as {
      ownersDropped: number;
      finalizersNotRestored: number;
      items: {
        name: string;
        outcome: string;
        ownersDropped?: { kind: string; name: string; uid: string; reason: string }[];
        finalizersNotRestored?: string[];
      }[];
    };
    expect(report.ownersDropped).toBe(1);
    expect(report.finalizersNotRestored).toBe(1);
    const byName = Object.fromEntries(report.items.map((i) => [i.name, i]));
    expect(byName.orphaned).toMatchObject({
      outcome: 'unchanged',
      ownersDropped: [
        {
          kind: 'ConfigMap',
          name: 'canary-gone',
          uid: uids['canary-gone'],
          reason: expect.stringMatching(/no longer exists/),
        },
      ],
    });
    expect(byName.finalized).toMatchObject({ outcome: 'unchanged', finalizersNotRestored: ['example.com/keep'] });
    expect(byName.owned).not.toHaveProperty('ownersDropped');
  });

  it('verify: an owner reference the restore keeps, missing on the cluster, is a difference', async () => {
    const deps = await testDeps();
    expect((await compareWithBackup(deps, { dir })).differences).toEqual([]);
    await kube.request({ method: 'PATCH', path: tsPath('owned'), body: { metadata: { ownerReferences: null } } });
    expect((await compareWithBackup(deps, { dir })).differences).toEqual([
      { kind: 'TrafficSplit', namespace: ns, name: 'owned', state: 'differs' },
    ]);
    // A restore with --on-conflict overwrite puts it back.
    const r = await restoreBackup(deps, {
      dir,
      onConflict: 'overwrite',
      dryRun: false,
      timeoutMs: 60_000,
      concurrency: 4,
    });
    expect(r.items.find((i) => i.name === 'owned')).toMatchObject({ outcome: 'overwritten', verified: true });
    expect(ownersOf(await kube.request<KubeObject>({ path: tsPath('owned') }))).toContain(
      `ConfigMap/canary-live/${uids['canary-live']}`,
    );
  });
});
