/**
 * `kubectl nsm-upgrade status` against the real local API server: a fake control plane at 1.7.0
 * and injected workloads of every owner kind, some on 1.6.0 sidecars.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool, testKube, uniqueName } from '../support/cluster.ts';
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
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core } from '../../src/kube/paths.ts';

const mesh = uniqueName('st-mesh');
const apps = uniqueName('st-apps');
const optedIn = uniqueName('st-optin');

beforeAll(async () => {
  const kube = await testKube();
  await createNamespace(kube, mesh);
  await createNamespace(kube, apps);
  await createNamespace(kube, optedIn, { 'injector.nsm.nginx.com/auto-inject': 'enabled' });
  await create(kube, mesh, fakeControlPlane('1.7.0'));
  await create(kube, apps, deployment('web', { version: '1.6.0', replicas: 3 }));
  await create(kube, apps, statefulSet('db', { version: '1.7.0', replicas: 2 }));
  await create(kube, apps, daemonSet('agent', { version: '1.6.0' }));
  await create(kube, apps, barePod('loner', { version: '1.7.0' }));
  await create(kube, optedIn, deployment('api', { version: '1.7.0' }));
  // status reads pods as they are, scheduled or not; wait only until the controllers created them all
  await until('all pods created', async () => {
    const pods = await listAll(kube, collectionPath(core.pods, apps));
    return pods.length >= 3 + 2 + 1 + 2; // web, db, loner, one agent per fake node
  });
  await until('api pod created', async () => (await listAll(kube, collectionPath(core.pods, optedIn))).length >= 1);
});

afterAll(async () => {
  const kube = await testKube();
  await Promise.all([mesh, apps, optedIn].map((ns) => deleteNamespace(kube, ns)));
});

describe('status on a mixed-version mesh', () => {
  it('reports the control plane, every workload by sidecar version, and exits 4', async () => {
    const res = await runTool(['status', '--mesh-namespace', mesh, '-o', 'json']);
    expect(res.exitCode, res.stderr).toBe(4);
    expect(res.stderr).toContain('workloads run sidecars other than 1.7.0');
    const report = JSON.parse(res.stdout);
    expect(report.controlPlane.version).toBe('1.7.0');
    expect(report.controlPlane.components).toEqual([
      expect.objectContaining({ name: 'nginx-mesh-api', kind: 'Deployment', desired: 1 }),
    ]);
    const mine = report.workloads.filter((w: { namespace: string }) => w.namespace === apps || w.namespace === optedIn);
    const nodes = (await listAll(await testKube(), '/api/v1/nodes')).length;
    expect(mine).toEqual([
      { namespace: apps, kind: 'DaemonSet', name: 'agent', versions: { '1.6.0': nodes }, behind: true },
      { namespace: apps, kind: 'Deployment', name: 'web', versions: { '1.6.0': 3 }, behind: true },
      { namespace: apps, kind: 'Pod', name: 'loner', versions: { '1.7.0': 1 }, behind: false },
      { namespace: apps, kind: 'StatefulSet', name: 'db', versions: { '1.7.0': 2 }, behind: false },
      { namespace: optedIn, kind: 'Deployment', name: 'api', versions: { '1.7.0': 1 }, behind: false },
    ]);
    expect(report.optInMissing).toContain(apps);
    expect(report.optInMissing).not.toContain(optedIn);
    expect(report.converged).toBe(false);
  });

  it('prints a compact table by default', async () => {
    const res = await runTool(['status', '--mesh-namespace', mesh]);
    expect(res.exitCode).toBe(4);
    expect(res.stdout).toContain(`Control plane (namespace ${mesh}): version 1.7.0`);
    expect(res.stdout).toMatch(new RegExp(`${apps}\\s+deployment/web\\s+1\\.6\\.0=3\\s+behind`));
    expect(res.stdout).toMatch(new RegExp(`${apps}\\s+statefulset/db\\s+1\\.7\\.0=2\\s+ok`));
    expect(res.stdout).toContain('Run "kubectl nsm-upgrade restart" to restart them.');
  });

  it('refuses with exit 2 and names --mesh-namespace when no control plane is found', async () => {
    const res = await runTool(['status', '--mesh-namespace', apps]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(
      `no NGINX Service Mesh control plane (nginx-mesh-api or nginx-mesh-controller) found in namespace "${apps}"`,
    );
    expect(res.stderr).toContain('--mesh-namespace');
  });

  it('scopes to one namespace with -n, and exits 0 once everything there runs the control plane version', async () => {
    const res = await runTool(['status', '--mesh-namespace', mesh, '-n', optedIn, '-o', 'json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.workloads.map((w: { name: string }) => w.name)).toEqual(['api']);
    expect(report).toMatchObject({ converged: true, byVersion: { '1.7.0': 1 }, optInMissing: [] });
  });

  it('rejects an unsupported output format with exit 2', async () => {
    const res = await runTool(['status', '--mesh-namespace', mesh, '-o', 'yaml']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('Use -o text|json');
  });
});
