/**
 * `kubectl nsm-upgrade restart` against the real local API server (KWOK nodes run the pods):
 * each rolling kind is restarted the way `kubectl rollout restart` does it, paused and OnDelete
 * workloads are reported, and a workload that never becomes ready times out by name with exit 4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, runTool, testKube, uniqueName } from '../support/cluster.ts';
import {
  barePod,
  create,
  createNamespace,
  daemonSet,
  deleteNamespace,
  deployment,
  fakeControlPlane,
  statefulSet,
  until,
} from './workloads-manifests.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';

const mesh = uniqueName('rs-mesh');
const rolling = uniqueName('rs-roll');
const stuck = uniqueName('rs-skip');
const never = uniqueName('rs-never');

type Pod = KubeObject & { metadata: { uid: string; deletionTimestamp?: string } };
const podsIn = async (ns: string) => listAll<Pod>(await testKube(), collectionPath(core.pods, ns));
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function rolledOut(ns: string, ref: string): Promise<void> {
  await kubectl(['rollout', 'status', '-n', ns, ref, '--timeout', '90s']);
}

beforeAll(async () => {
  const kube = await testKube();
  for (const ns of [mesh, rolling, stuck, never]) await createNamespace(kube, ns);
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  await create(kube, rolling, deployment('web', { version: '1.7.0', replicas: 2 }));
  await create(kube, rolling, statefulSet('db', { version: '1.7.0', replicas: 2 }));
  await create(kube, rolling, daemonSet('agent', { version: '1.7.0' }));
  await create(kube, stuck, deployment('held', { version: '1.6.0' }));
  await create(kube, stuck, statefulSet('db-ondelete', { version: '1.6.0', onDelete: true }));
  await create(kube, stuck, daemonSet('agent-ondelete', { version: '1.6.0', onDelete: true }));
  await create(kube, stuck, barePod('loner', { version: '1.6.0' }));
  await create(kube, never, deployment('stuck', { version: '1.6.0', neverReady: true }));
  await Promise.all([
    rolledOut(rolling, 'deployment/web'),
    rolledOut(rolling, 'statefulset/db'),
    rolledOut(rolling, 'daemonset/agent'),
    rolledOut(stuck, 'deployment/held'),
  ]);
  // pause after the first rollout, so the paused Deployment has pods behind
  await kube.request({
    method: 'PATCH',
    path: objectPath(core.deployments, 'held', stuck),
    body: { spec: { paused: true } },
  });
  await until('OnDelete pods created', async () => (await podsIn(stuck)).length >= 4);
});

afterAll(async () => {
  const kube = await testKube();
  await Promise.all([mesh, rolling, stuck, never].map((ns) => deleteNamespace(kube, ns)));
});

describe('restart', () => {
  it('restarts a Deployment, a StatefulSet and a DaemonSet as kubectl rollout restart does, and exits 0 when converged', async () => {
    const kube = await testKube();
    const before = new Set((await podsIn(rolling)).map((p) => p.metadata.uid));
    const rsBefore = (await listAll(kube, collectionPath(core.replicasets, rolling))).map((r) => r.metadata?.name);
    expect(rsBefore).toHaveLength(1);

    const res = await runTool([
      'restart',
      '--mesh-namespace',
      mesh,
      '-n',
      rolling,
      '--restart',
      'all',
      '--timeout',
      '90s',
      '-o',
      'json',
    ]);
    expect(res.exitCode, res.stderr).toBe(0);
    const result = JSON.parse(res.stdout);
    expect(result.restarted.map((r: { kind: string; name: string }) => `${r.kind}/${r.name}`).sort()).toEqual([
      'DaemonSet/agent',
      'Deployment/web',
      'StatefulSet/db',
    ]);
    expect(result).toMatchObject({
      skipped: [],
      timedOut: [],
      failed: [],
      concurrency: 2,
      final: { converged: true, behind: [] },
    });
    // slow start: one first, then the other two together (the window widened to 2)
    expect(res.stderr).toMatch(/\[\d\/3\] deployment .*\/web: deployment "web" successfully rolled out/);

    for (const [ref, name] of [
      [core.deployments, 'web'],
      [core.statefulsets, 'db'],
      [core.daemonsets, 'agent'],
    ] as const) {
      const obj = await kube.request<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>({
        path: objectPath(ref, name, rolling),
      });
      expect(obj.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], name).toMatch(rfc3339);
    }
    const rsAfter = await listAll<KubeObject & { spec: { replicas: number } }>(
      kube,
      collectionPath(core.replicasets, rolling),
    );
    const live = rsAfter.filter((r) => r.spec.replicas > 0).map((r) => r.metadata?.name);
    expect(live).toHaveLength(1);
    expect(live[0]).not.toBe(rsBefore[0]);
    // the rollout rules leave no old replica counted; the old pods are gone (or on their way out)
    await until(
      'old pods gone',
      async () => (await podsIn(rolling)).every((p) => !before.has(p.metadata.uid) || p.metadata.deletionTimestamp),
      30_000,
    );
  });

  it('reports a paused Deployment, OnDelete StatefulSet/DaemonSet and a bare pod with what to do, touches none, and exits 4', async () => {
    const kube = await testKube();
    const res = await runTool(['restart', '--mesh-namespace', mesh, '-n', stuck, '-o', 'json']);
    expect(res.exitCode, res.stderr).toBe(4);
    const result = JSON.parse(res.stdout);
    expect(result.restarted).toEqual([]);
    const reasons = Object.fromEntries(
      result.skipped.map((s: { kind: string; name: string; reason: string }) => [`${s.kind}/${s.name}`, s.reason]),
    );
    expect(reasons['Deployment/held']).toContain(`kubectl rollout resume deployment/held -n ${stuck}`);
    expect(reasons['StatefulSet/db-ondelete']).toContain('updateStrategy OnDelete');
    expect(reasons['DaemonSet/agent-ondelete']).toContain('updateStrategy OnDelete');
    expect(reasons['Pod/loner']).toContain('--delete-bare-pods');
    expect(result.final.converged).toBe(false);
    expect(res.stderr).toContain('still run sidecars other than 1.7.0');
    const held = await kube.request<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>({
      path: objectPath(core.deployments, 'held', stuck),
    });
    expect(held.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    expect((await podsIn(stuck)).some((p) => p.metadata.name === 'loner' && !p.metadata.deletionTimestamp)).toBe(true);
  });

  it('evicts bare pods only with --delete-bare-pods', async () => {
    const res = await runTool(['restart', '--mesh-namespace', mesh, '-n', stuck, '--delete-bare-pods']);
    expect(res.exitCode).toBe(4); // the paused and OnDelete workloads are still behind
    expect(res.stdout).toMatch(/pod\/loner\s+evicted/);
    await until(
      'bare pod gone',
      async () => (await podsIn(stuck)).every((p) => p.metadata.name !== 'loner' || p.metadata.deletionTimestamp),
      30_000,
    );
  });

  it('times out a workload that never becomes ready, naming it, with exit 4', async () => {
    const res = await runTool(['restart', '--mesh-namespace', mesh, '-n', never, '--timeout', '4s']);
    expect(res.exitCode).toBe(4);
    expect(res.stdout).toContain(`deployment ${never}/stuck did not finish rolling out within 4s (--timeout): `);
    // the old pod was never ready, so the controller may already have scaled it down: either rule can be the last one
    expect(res.stdout).toMatch(
      /--timeout\): (1 old replicas are pending termination|0 of 1 updated replicas are available)/,
    );
    expect(res.stdout).toMatch(/deployment\/stuck\s+TIMED OUT/);
    expect(res.stderr).toContain(`error: timed out waiting for deployment ${never}/stuck`);
    expect(res.stderr).toContain('raise --timeout');
  });

  it('--dry-run prints the start order and changes nothing', async () => {
    const res = await runTool(['restart', '--mesh-namespace', mesh, '-n', never, '--dry-run', '--restart', 'all']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`1\\s+${never}\\s+deployment/stuck\\s+restart \\(\\d pods?\\)`)); // old and new pods: neither ever became ready
    expect(res.stdout).toContain(
      '(dry run) would restart 1 workload(s) to 1.7.0, the first alone, then widening up to 8 at once',
    );
  });
});
