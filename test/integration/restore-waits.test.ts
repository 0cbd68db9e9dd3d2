/**
 * What restore and backup must survive on a real API server: the validating webhook not
 * answering yet (retried until it does, never a conflict), a CRD that appears only after the
 * restore started (watched, not slept on), and a partial discovery result (an APIService of a
 * catalog group whose service has no endpoints).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreObject } from '../../src/backup/apply.ts';
import { backupMesh } from '../../src/backup/backup.ts';
import { waitForCrdEstablished } from '../../src/backup/crd-wait.ts';
import { restoreBackup } from '../../src/backup/restore.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import {
  createNamespace,
  deleteAllCatalogObjects,
  deleteNamespace,
  ensureCatalogCrds,
  liveObjects,
  seed,
} from '../fixtures/backups/cluster.ts';
import { testDeps, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('bk-waits');
const tmp: string[] = [];
const newDir = async () => {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-bk-'));
  tmp.push(d);
  return path.join(d, 'backup');
};
const webhooks = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'validatingwebhookconfigurations',
  namespaced: false,
};
const apiServices = { group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false };

beforeAll(async () => {
  const kube = await testKube();
  await ensureCatalogCrds(kube);
  await createNamespace(kube, ns);
  await seed(kube, ns, 1);
});

afterAll(async () => {
  await deleteNamespace(await testKube(), ns);
  for (const d of tmp) await fs.rm(d, { recursive: true, force: true });
});

describe('restore waits', () => {
  it('retries creates refused by an unreachable validating webhook until it is gone, without conflicts', async () => {
    const kube = await testKube();
    const dir = await newDir();
    await backupMesh(await testDeps(), { dir, namespace: ns, concurrency: 4 });
    await deleteAllCatalogObjects(kube, ns);
    const name = uniqueName('bk-webhook');
    // failurePolicy Fail, pointing at a service that does not exist: like the mesh's webhook right after a redeploy.
    await kube.request({
      method: 'POST',
      path: collectionPath(webhooks),
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name },
        webhooks: [
          {
            name: `${name}.nsm-upgrade.test`,
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            timeoutSeconds: 2,
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
            rules: [
              {
                apiGroups: ['split.smi-spec.io', 'specs.smi.nginx.com'],
                apiVersions: ['*'],
                operations: ['CREATE'],
                resources: ['trafficsplits', 'ratelimits'],
              },
            ],
            clientConfig: { service: { namespace: ns, name: 'no-such-webhook', port: 443 } },
          },
        ],
      },
    });
    const removal = new Promise<void>((resolve) =>
      setTimeout(() => {
        void kube.request({ method: 'DELETE', path: objectPath(webhooks, name) }).finally(resolve);
      }, 4000),
    );
    try {
      const report = await restoreBackup(await testDeps(), {
        dir,
        onConflict: 'fail',
        dryRun: false,
        timeoutMs: 60_000,
        concurrency: 4,
      });
      expect(report.unresolved).toBe(0);
      expect(report.counts.conflict).toBe(0);
      expect(report.counts.created).toBe(7);
      const retried = report.items
        .filter((i) => i.attempts > 1)
        .map((i) => i.kind)
        .sort();
      expect(retried).toEqual(['RateLimit', 'TrafficSplit']);
    } finally {
      await removal;
    }
    expect((await liveObjects(kube, ns)).size).toBe(7);
  });

  it('waits (by watch) for a CRD created after the restore started, then creates', async () => {
    // A private CRD: deleting a shared catalog CRD would break other tests on this cluster.
    const kube = await testKube();
    const deps = await testDeps();
    const group = `${uniqueName('w').replace(/[^a-z0-9]/g, '')}.backup-test.nsm-upgrade.dev`;
    const crdName = `widgets.${group}`;
    const started = Date.now();
    const creator = new Promise<void>((resolve, reject) =>
      setTimeout(() => {
        kube
          .request({
            method: 'POST',
            path: collectionPath(core.crds),
            body: {
              apiVersion: 'apiextensions.k8s.io/v1',
              kind: 'CustomResourceDefinition',
              metadata: { name: crdName },
              spec: {
                group,
                scope: 'Namespaced',
                names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
                versions: [
                  {
                    name: 'v1',
                    served: true,
                    storage: true,
                    schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                  },
                ],
              },
            },
          })
          .then(() => resolve(), reject);
      }, 2500),
    );
    try {
      const ready = await waitForCrdEstablished(deps, crdName, 'v1', Date.now() + 60_000);
      expect(ready).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
      const ref = { group, version: 'v1', plural: 'widgets', namespaced: true };
      const r = await restoreObject(
        { deps, ref, onConflict: 'skip', dryRun: false, deadline: Date.now() + 30_000 },
        { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, spec: { size: 3 } },
      );
      expect(r.outcome).toBe('created');
      expect(await waitForCrdEstablished(deps, `gadgets.${group}`, 'v1', Date.now() + 1500)).toBe(false);
    } finally {
      await creator;
      await kube.request({ method: 'DELETE', path: objectPath(core.crds, crdName) }).catch(() => undefined);
    }
  });
});

describe('backup with a partial discovery result', () => {
  it('succeeds and records the group version whose discovery failed', async () => {
    const kube = await testKube();
    // nginx-mesh-api's aggregated API of 1.4-1.7, with its pod down: a Service with no endpoints.
    await kube.request({
      method: 'POST',
      path: collectionPath({ group: '', version: 'v1', plural: 'services', namespaced: true }, ns),
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'nginx-mesh-api-down' },
        spec: { selector: { app: 'nothing-here' }, ports: [{ port: 443, targetPort: 8443 }] },
      },
    });
    const apiName = 'v1alpha1.nsm.nginx.com';
    // Other tests on this shared cluster may install a 1.x mesh that owns this APIService:
    // then use theirs as it is, and never delete it.
    let createdUid: string | undefined;
    try {
      const created = await kube.request<{ metadata: { uid: string } }>({
        method: 'POST',
        path: collectionPath(apiServices),
        body: {
          apiVersion: 'apiregistration.k8s.io/v1',
          kind: 'APIService',
          metadata: { name: apiName },
          spec: {
            group: 'nsm.nginx.com',
            version: 'v1alpha1',
            groupPriorityMinimum: 1000,
            versionPriority: 5,
            insecureSkipTLSVerify: true,
            service: { namespace: ns, name: 'nginx-mesh-api-down', port: 443 },
          },
        },
      });
      createdUid = created.metadata.uid;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
    try {
      const dir = await newDir();
      const s = await backupMesh(await testDeps(), { dir, namespace: ns, concurrency: 4 });
      if (createdUid) expect(s.discoveryFailures.map((f) => f.groupVersion)).toContain('nsm.nginx.com/v1alpha1');
      expect(s.kinds.find((k) => k.kind === 'MeshConfig')?.count).toBe(1);
      expect(s.objects).toBe(7);
    } finally {
      // Delete only the APIService this test created (uid precondition).
      if (createdUid)
        await kube
          .request({
            method: 'DELETE',
            path: objectPath(apiServices, apiName),
            body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: createdUid } },
          })
          .catch(() => undefined);
    }
  });
});
