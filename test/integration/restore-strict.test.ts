/**
 * Restore validates fields strictly, as `kubectl create` does: a field the live CRD's structural schema
 * does not know is refused and reported with its path, never pruned without a word.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreObject } from '../../src/backup/apply.ts';
import { waitForCrdEstablished } from '../../src/backup/crd-wait.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { testDeps, testKube, uniqueName } from '../support/cluster.ts';

const group = 'strict.nsm-upgrade.test';
const crdName = `widgets.${group}`;
const crds = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const widgets = { group, version: 'v1', plural: 'widgets', namespaced: true };
const ns = uniqueName('bk-strict');

beforeAll(async () => {
  const kube = await testKube();
  await kube.request({
    method: 'POST',
    path: collectionPath(core.namespaces),
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
  });
  await kube
    .request({
      method: 'POST',
      path: collectionPath(crds),
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  },
                },
              },
            },
          ],
        },
      },
    })
    .catch((e: Error) => {
      if (!/already exists/.test(e.message)) throw e;
    });
  expect(await waitForCrdEstablished(await testDeps(), crdName, 'v1', Date.now() + 60_000)).toBe(true);
});

afterAll(async () => {
  const kube = await testKube();
  await kube.request({ method: 'DELETE', path: objectPath(crds, crdName) }).catch(() => undefined);
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, ns) }).catch(() => undefined);
});

const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: `${group}/v1`,
  kind: 'Widget',
  metadata: { name, namespace: ns },
  spec,
});

describe('restore field validation', () => {
  it('refuses an object with a field the schema does not know, naming the field, and creates nothing', async () => {
    const deps = await testDeps();
    const ctx = { deps, ref: widgets, onConflict: 'fail' as const, dryRun: false, deadline: Date.now() + 30_000 };
    const r = await restoreObject(ctx, widget('pruned', { size: 3, colour: 'red' }));
    expect(r.outcome).toBe('failed');
    expect(r.detail).toContain('spec.colour');
    await expect(deps.kube.request({ path: objectPath(widgets, 'pruned', ns) })).rejects.toThrow(/not found/);
  });

  it('creates an object that fits the schema', async () => {
    const deps = await testDeps();
    const ctx = { deps, ref: widgets, onConflict: 'fail' as const, dryRun: false, deadline: Date.now() + 30_000 };
    expect((await restoreObject(ctx, widget('fits', { size: 3 }))).outcome).toBe('created');
  });

  it('refuses to replace a live object with one that has an unknown field, and keeps the live one', async () => {
    const deps = await testDeps();
    const ctx = { deps, ref: widgets, onConflict: 'overwrite' as const, dryRun: false, deadline: Date.now() + 30_000 };
    await restoreObject(ctx, widget('over', { size: 1 }));
    const r = await restoreObject(ctx, widget('over', { size: 2, colour: 'blue' }));
    expect(r.outcome).toBe('failed');
    expect(r.detail).toContain('spec.colour');
    const live = await deps.kube.request<{ spec: { size: number } }>({ path: objectPath(widgets, 'over', ns) });
    expect(live.spec).toEqual({ size: 1 });
  });
});
