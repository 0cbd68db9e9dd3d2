/**
 * What is in the mesh namespace besides the mesh (issue 23), on the real API server. nginx-meshctl
 * remove deletes the namespace, so the manual path would delete a user's objects there with it; a
 * Service of type LoadBalancer carries the cloud controller's finalizer
 * (service.kubernetes.io/load-balancer-cleanup), on which the namespace deletion then hangs with the
 * mesh already removed (what a careful user saw: exit 1 after the timeout, the mesh gone, the
 * Service deleted). No cloud controller runs here, so the finalizer stays, as it does on a cluster
 * whose controller cannot delete the load balancer. The preflight refuses (exit 3, nothing changed)
 * naming each; --delete-foreign-objects accepts the plain objects' deletion, never the finalizer.
 * An in-place upgrade leaves them all alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError, type Kube } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import {
  expectConverged,
  runUpgrade,
  setUpMesh,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { escapeRegExp } from '../support/cluster.ts';

const services = { group: '', version: 'v1', plural: 'services', namespaced: true };
const lbFinalizer = 'service.kubernetes.io/load-balancer-cleanup';
let current: Scenario | undefined;
afterEach(async () => {
  if (current)
    await current.kube
      .request({
        method: 'PATCH',
        path: objectPath(services, 'public-lb', current.meshNamespace),
        body: { metadata: { finalizers: null } },
      })
      .catch(() => undefined);
  await current?.cleanup();
  current = undefined;
});

async function exists(kube: Kube, p: string): Promise<boolean> {
  try {
    await kube.request({ path: p });
    return true;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return false;
    throw err;
  }
}

/** A user's objects in the mesh namespace: a LoadBalancer Service (with the cloud controller's finalizer), a ConfigMap, a Secret, a Deployment. */
async function plantUserObjects(kube: Kube, ns: string): Promise<Record<string, string>> {
  await kube.request({
    method: 'POST',
    path: collectionPath(services, ns),
    body: {
      metadata: { name: 'public-lb', finalizers: [lbFinalizer] },
      spec: { type: 'LoadBalancer', selector: { app: 'shop' }, ports: [{ port: 80 }] },
    },
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(core.configmaps, ns),
    body: { metadata: { name: 'user-settings' }, data: { a: '1' } },
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(core.secrets, ns),
    body: { metadata: { name: 'user-creds' }, type: 'Opaque', stringData: { token: 'not-a-real-one' } },
  });
  await kube.request({
    method: 'POST',
    path: collectionPath(core.deployments, ns),
    body: {
      metadata: { name: 'shop' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'shop' } },
        template: {
          metadata: { labels: { app: 'shop' } },
          spec: { containers: [{ name: 'shop', image: 'example/shop:1' }] },
        },
      },
    },
  });
  return {
    lb: objectPath(services, 'public-lb', ns),
    cm: objectPath(core.configmaps, 'user-settings', ns),
    secret: objectPath(core.secrets, 'user-creds', ns),
    deployment: objectPath(core.deployments, 'shop', ns),
  };
}

describe("objects in the mesh namespace that are not the mesh's", () => {
  it("manual nginx-meshctl path: refused at preflight with nothing changed; --delete-foreign-objects accepts all but the load balancer's finalizer; then it converges", async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpMesh(o);
    const s = current;
    const ns = s.meshNamespace;
    const user = await plantUserObjects(s.kube, ns);
    const nothingChanged = async () => {
      expect((await detectInstall({ kube: s.kube } as never, { meshNamespace: ns })).version).toBe('1.6.0');
      const live = await s.kube.request<{ metadata: { deletionTimestamp?: string } }>({
        path: objectPath(core.namespaces, ns),
      });
      expect(live.metadata.deletionTimestamp).toBeUndefined();
      for (const p of Object.values(user)) expect(await exists(s.kube, p), p).toBe(true);
      expect(fs.existsSync(path.join(s.backupDir, 'journal.ndjson'))).toBe(false);
    };

    // The reproduction: a manual upgrade with --clean-leftovers.
    const refused = await runUpgrade(s, o, ['--strategy', 'manual', '--clean-leftovers']);
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(
      `Service ${ns}/public-lb has finalizer ${lbFinalizer} (set by the cloud provider's service controller (cloud-controller-manager)`,
    );
    expect(refused.stderr).toContain('--delete-foreign-objects does not accept this');
    for (const what of [`ConfigMap ${ns}/user-settings`, `Secret ${ns}/user-creds`, `Deployment ${ns}/shop`]) {
      expect(refused.stderr).toContain(`${what}`);
      expect(refused.stderr).toMatch(new RegExp(`${escapeRegExp(what)}( \\(with [^)]*\\))? is not the mesh's`));
    }
    expect(refused.stderr).toContain(`hop1.remove (nginx-meshctl remove deletes namespace ${ns} and everything in it)`);
    // Nothing of the mesh is named: its chart objects, Helm's record, Kubernetes' own, the Pods of its Deployments.
    expect(refused.stderr).not.toMatch(
      /(nginx-mesh-api|spire-server|sh\.helm\.release|kube-root-ca\.crt|ServiceAccount [^ ]+\/default)[^\n]* is not the mesh's/,
    );
    await nothingChanged();

    // Accepting the deletion of the plain objects: the load balancer's finalizer still refuses.
    const accepted = await runUpgrade(s, o, ['--strategy', 'manual', '--delete-foreign-objects']);
    expect(accepted.exitCode, accepted.stderr).toBe(3);
    expect(accepted.stderr).toContain(`Service ${ns}/public-lb has finalizer ${lbFinalizer}`);
    expect(accepted.stderr).not.toMatch(/foreign-objects: (ConfigMap|Secret|Deployment) /);
    expect(accepted.stderr).toMatch(
      new RegExp(
        `--delete-foreign-objects: hop1.remove will delete with namespace ${ns} what is not the mesh's: .*ConfigMap ${ns}/user-settings`,
      ),
    );
    await nothingChanged();

    // The user moves the load balancer out (its controller removes the finalizer once the cloud load balancer is gone).
    await s.kube.request({ method: 'PATCH', path: user.lb!, body: { metadata: { finalizers: null } } });
    await s.kube.request({ method: 'DELETE', path: user.lb! });
    const r = await runUpgrade(s, o, ['--strategy', 'manual', '--delete-foreign-objects']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    await expectConverged(s, '1.7.0');
    // Accepted: deleted with the namespace.
    for (const p of [user.cm!, user.secret!, user.deployment!]) expect(await exists(s.kube, p), p).toBe(false);
  });

  it("in place: nothing in the namespace but the release's own objects is touched", async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpMesh(o);
    const s = current;
    const user = await plantUserObjects(s.kube, s.meshNamespace);
    const r = await runUpgrade(s, o, ['--strategy', 'in-place']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    await expectConverged(s, '1.7.0');
    for (const p of Object.values(user)) expect(await exists(s.kube, p), p).toBe(true);
    const lb = await s.kube.request<{ metadata: { finalizers?: string[]; deletionTimestamp?: string } }>({
      path: user.lb!,
    });
    expect(lb.metadata).toMatchObject({ finalizers: [lbFinalizer] });
    expect(lb.metadata.deletionTimestamp).toBeUndefined();
  });
});
