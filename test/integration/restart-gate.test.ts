/**
 * Issue 26: a restart that cannot take the whole mesh down, on the real API server (KWOK runs the
 * pods). Twelve injected Deployments whose restart must fail the way Kubernetes fails it: a surge
 * pod (maxSurge 1, maxUnavailable 0) in a namespace whose ResourceQuota allows exactly the pods that
 * exist, so the new ReplicaSet records FailedCreate (exceeded quota) and the Deployment reports
 * ProgressDeadlineExceeded after 10 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool, testKube, uniqueName } from '../support/cluster.ts';
import {
  barePod,
  create,
  createNamespace,
  deleteNamespace,
  deployment,
  fakeControlPlane,
  until,
} from './workloads-manifests.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { legacyRecordName, recordName } from '../../src/workloads/restart-record.ts';

const mesh = uniqueName('gate-mesh');
const gate = uniqueName('gate-apps');
const cont = uniqueName('gate-cont');
const names = Array.from({ length: 12 }, (_, i) => `app-${String(i + 1).padStart(2, '0')}`);
const restartedAt = 'kubectl.kubernetes.io/restartedAt';

type Dep = KubeObject & {
  spec: { template: { metadata: { annotations?: Record<string, string> } } };
  status?: { updatedReplicas?: number; availableReplicas?: number };
};
const deployments = async () => listAll<Dep>(await testKube(), collectionPath(core.deployments, gate));
const restarted = async () =>
  (await deployments())
    .filter((d) => d.spec.template.metadata.annotations?.[restartedAt])
    .map((d) => d.metadata?.name)
    .sort();

async function setQuota(pods: number): Promise<void> {
  const kube = await testKube();
  const body = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'pods' },
    spec: { hard: { pods: String(pods) } },
  };
  const path = objectPath({ group: '', version: 'v1', plural: 'resourcequotas', namespaced: true }, 'pods', gate);
  const cur = await kube.request<{ metadata: { resourceVersion: string } }>({ path }).catch(() => undefined);
  if (cur)
    await kube.request({
      method: 'PUT',
      path,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } },
    });
  else
    await kube.request({
      method: 'POST',
      path: collectionPath({ group: '', version: 'v1', plural: 'resourcequotas', namespaced: true }, gate),
      body,
    });
  // Admission counts against the quota's status: wait until the controller has computed it.
  await until(`quota pods=${pods} computed`, async () => {
    const q = await kube.request<{ status?: { hard?: { pods?: string }; used?: { pods?: string } } }>({ path });
    return q.status?.hard?.pods === String(pods) && q.status.used?.pods !== undefined;
  });
}

beforeAll(async () => {
  const kube = await testKube();
  await createNamespace(kube, mesh);
  await createNamespace(kube, gate);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  for (const n of names) {
    const d = deployment(n, { version: '1.7.0' });
    const failing = {
      ...d,
      spec: {
        ...d.spec,
        progressDeadlineSeconds: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
    };
    await create(kube, gate, failing);
  }
  await until(
    '12 pods available',
    async () => (await deployments()).filter((d) => d.status?.availableReplicas === 1).length === 12,
    120_000,
  );
  await setQuota(12);
}, 300_000);

afterAll(async () => {
  const kube = await testKube();
  await Promise.all([mesh, gate, cont].map((ns) => deleteNamespace(kube, ns)));
});

describe('the restart gate (slow start and --max-failures)', () => {
  it('restarts exactly one workload, stops at it with the quota as the reason, and says how to go on', async () => {
    const res = await runTool([
      'restart',
      '--mesh-namespace',
      mesh,
      '-n',
      gate,
      '--restart',
      'all',
      '--timeout',
      '90s',
      '-o',
      'json',
    ]);
    expect(res.exitCode, res.stderr).toBe(1);
    const r = JSON.parse(res.stdout);
    expect(r.restarted).toEqual([]);
    expect(r.failed.map((f: { name: string }) => f.name)).toEqual(['app-01']);
    expect(r.failed[0].message).toContain('exceeded its progress deadline');
    expect(r.failed[0].reason).toMatch(/^ReplicaSet app-01-\w+ FailedCreate: .*exceeded quota: pods/);
    expect(r.notStarted.map((f: { name: string }) => f.name)).toEqual(names.slice(1));
    expect(r).toMatchObject({
      stoppedAtGate: true,
      maxFailures: 1,
      concurrency: 1,
      continueWith: `kubectl nsm-upgrade restart --mesh-namespace ${mesh} --restart all -n ${gate}`,
    });
    expect(res.stderr).toContain('exceeded quota');
    expect(res.stderr).toContain(
      `Then continue with: kubectl nsm-upgrade restart --mesh-namespace ${mesh} --restart all -n ${gate}`,
    );
    // Only the canary was touched.
    expect(await restarted()).toEqual(['app-01']);
  }, 180_000);

  it('status shows, for each workload, what the last restart did: failed (with the reason) or never reached', async () => {
    const res = await runTool(['status', '--mesh-namespace', mesh, '-n', gate]);
    expect(res.stdout).toMatch(
      /Last restart: restart run \w+ to 1\.7\.0, stopped at the failure gate \(--max-failures 1\)/,
    );
    expect(res.stdout).toMatch(
      new RegExp(
        `${gate}\\s+deployment/app-01\\s+1\\.7\\.0=1\\s+ok\\s+FAILED: ReplicaSet app-01-\\w+ FailedCreate: .*exceeded quota`,
      ),
    );
    expect(res.stdout).toMatch(new RegExp(`${gate}\\s+deployment/app-12\\s+1\\.7\\.0=1\\s+ok\\s+not reached`));
    const json = JSON.parse((await runTool(['status', '--mesh-namespace', mesh, '-n', gate, '-o', 'json'])).stdout);
    expect(json.lastRestart).toMatchObject({ operation: 'restart', state: 'stopped-at-gate', targetVersion: '1.7.0' });
    expect(json.workloads.find((w: { name: string }) => w.name === 'app-02').lastRestart).toEqual({
      state: 'not-started',
    });
  }, 60_000);

  it('restart --undo puts the failed workload back on its previous revision', async () => {
    const res = await runTool([
      'restart',
      '--mesh-namespace',
      mesh,
      '--undo',
      `${gate}/deployment/app-01`,
      '--timeout',
      '60s',
    ]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /deployment .*\/app-01: back from revision 2 to 1: deployment "app-01" successfully rolled out/,
    );
    const d = await (await testKube()).request<Dep>({ path: objectPath(core.deployments, 'app-01', gate) });
    expect(d.spec.template.metadata.annotations?.[restartedAt]).toBeUndefined();
  }, 120_000);

  it('with the quota raised, the same command finishes the rest', async () => {
    await setQuota(24);
    const res = await runTool([
      'restart',
      '--mesh-namespace',
      mesh,
      '-n',
      gate,
      '--restart',
      'all',
      '--timeout',
      '90s',
      '-o',
      'json',
    ]);
    expect(res.exitCode, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r.restarted.map((x: { name: string }) => x.name).sort()).toEqual(names);
    expect(r).toMatchObject({ failed: [], notStarted: [], stoppedAtGate: false, final: { converged: true } });
    expect(await restarted()).toEqual(names);
    const json = JSON.parse((await runTool(['status', '--mesh-namespace', mesh, '-n', gate, '-o', 'json'])).stdout);
    expect(json.lastRestart.state).toBe('finished');
    expect(json.workloads.every((w: { lastRestart: { state: string } }) => w.lastRestart.state === 'rolled')).toBe(
      true,
    );
  }, 240_000);

  it('evicts a bare pod through the Eviction API: a PodDisruptionBudget that forbids it is respected and reported', async () => {
    const kube = await testKube();
    await setQuota(40);
    await create(kube, gate, barePod('loner', { version: '1.6.0' }));
    await kube.request({
      method: 'POST',
      path: `/apis/policy/v1/namespaces/${gate}/poddisruptionbudgets`,
      body: {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'loner' },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'loner' } } },
      },
    });
    await until(
      'PDB computed',
      async () =>
        (
          await kube.request<{ status?: { expectedPods?: number; currentHealthy?: number } }>({
            path: `/apis/policy/v1/namespaces/${gate}/poddisruptionbudgets/loner`,
          })
        ).status?.currentHealthy === 1,
    );
    const res = await runTool(['restart', '--mesh-namespace', mesh, '-n', gate, '--delete-bare-pods', '-o', 'json']);
    const r = JSON.parse(res.stdout);
    expect(r.evicted).toEqual([]);
    expect(r.skipped.find((s: { name: string }) => s.name === 'loner').reason).toMatch(
      /a PodDisruptionBudget does not allow evicting pod .*\/loner now .*left running/,
    );
    expect(
      (
        await kube.request<KubeObject & { metadata: { deletionTimestamp?: string } }>({
          path: objectPath(core.pods, 'loner', gate),
        })
      ).metadata.deletionTimestamp,
    ).toBeUndefined();
    await kube.request({ method: 'DELETE', path: `/apis/policy/v1/namespaces/${gate}/poddisruptionbudgets/loner` });
    const again = JSON.parse(
      (await runTool(['restart', '--mesh-namespace', mesh, '-n', gate, '--delete-bare-pods', '-o', 'json'])).stdout,
    );
    expect(again.evicted.map((e: { name: string }) => e.name)).toEqual(['loner']);
  }, 120_000);
});

describe('continuing a restart that stopped at the gate', () => {
  const order = ['a-1', 'a-2', 'a-3', 'b-broken', 'c-1', 'c-2'];
  const rolledIn = async () =>
    (await listAll<Dep>(await testKube(), collectionPath(core.deployments, cont)))
      .filter((d) => d.spec.template.metadata.annotations?.[restartedAt])
      .map((d) => d.metadata?.name)
      .sort();

  beforeAll(async () => {
    const kube = await testKube();
    await createNamespace(kube, cont);
    for (const n of order) {
      const d = deployment(n, { version: '1.7.0', neverReady: n === 'b-broken' });
      const quick = { ...d, spec: { ...d.spec, progressDeadlineSeconds: 10 } };
      await create(kube, cont, quick);
    }
    await until(
      'pods of all six',
      async () => (await listAll(kube, collectionPath(core.pods, cont))).length === 6,
      120_000,
    );
  }, 180_000);

  it('one at a time: three restarted, the fourth fails, the last two are not started', async () => {
    const res = await runTool([
      'restart',
      '--mesh-namespace',
      mesh,
      '-n',
      cont,
      '--restart',
      'all',
      '--concurrency',
      '1',
      '--timeout',
      '30s',
      '-o',
      'json',
    ]);
    expect(res.exitCode, res.stderr).toBe(1);
    const r = JSON.parse(res.stdout);
    expect(r.restarted.map((x: { name: string }) => x.name)).toEqual(['a-1', 'a-2', 'a-3']);
    expect([...r.failed, ...r.timedOut].map((x: { name: string }) => x.name)).toEqual(['b-broken']);
    expect(r.notStarted.map((x: { name: string }) => x.name)).toEqual(['c-1', 'c-2']);
    expect(await rolledIn()).toEqual(['a-1', 'a-2', 'a-3', 'b-broken']);
  }, 120_000);

  it('fixed, the same command restarts only what the stopped restart did not bring over, from a record under the name earlier versions wrote', async () => {
    const kube = await testKube();
    const before = new Map(
      (await listAll<Dep>(kube, collectionPath(core.deployments, cont))).map((d) => [
        d.metadata?.name,
        d.spec.template.metadata.annotations?.[restartedAt],
      ]),
    );
    // The record as an earlier version left it: under nsm-upgrade.<mesh namespace>.reroll, none under the new name.
    const record = await kube.request<{ data: Record<string, string> }>({
      path: objectPath(core.configmaps, recordName(mesh), 'default'),
    });
    await kube.request({
      method: 'POST',
      path: collectionPath(core.configmaps, 'default'),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: legacyRecordName(mesh) }, data: record.data },
    });
    await kube.request({ method: 'DELETE', path: objectPath(core.configmaps, recordName(mesh), 'default') });
    // The fix: b-broken's pods may become ready now (a new rollout of its own).
    await kube.request({
      method: 'PATCH',
      path: objectPath(core.deployments, 'b-broken', cont),
      body: [{ op: 'remove', path: '/spec/template/metadata/labels/nsm-upgrade.test~1never-ready' }],
      contentType: 'application/json-patch+json',
    });
    const res = await runTool([
      'restart',
      '--mesh-namespace',
      mesh,
      '-n',
      cont,
      '--restart',
      'all',
      '--concurrency',
      '1',
      '--timeout',
      '60s',
      '-o',
      'json',
    ]);
    expect(res.exitCode, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r.continued).toBe(3);
    expect(r.restarted.map((x: { name: string }) => x.name)).toEqual(['b-broken', 'c-1', 'c-2']);
    expect(res.stderr).toMatch(
      /Continuing the restart of run \w+ \(stopped-at-gate, .*\): the 3 workload\(s\) it brought over are left alone/,
    );
    const after = new Map(
      (await listAll<Dep>(kube, collectionPath(core.deployments, cont))).map((d) => [
        d.metadata?.name,
        d.spec.template.metadata.annotations?.[restartedAt],
      ]),
    );
    for (const n of ['a-1', 'a-2', 'a-3']) expect(after.get(n), n).toBe(before.get(n));
    for (const n of ['c-1', 'c-2']) expect(after.get(n), n).toBeDefined();
    // Written under the new name, the old one deleted.
    const written = await kube.request<{ data: Record<string, string> }>({
      path: objectPath(core.configmaps, recordName(mesh), 'default'),
    });
    expect(JSON.parse(written.data['record.json']!)).toMatchObject({
      state: 'finished',
      workloads: { [`${cont}/Deployment/c-2`]: { state: 'rolled' } },
    });
    await expect(
      kube.request({ path: objectPath(core.configmaps, legacyRecordName(mesh), 'default') }),
    ).rejects.toMatchObject({ status: 404 });
  }, 180_000);
});
