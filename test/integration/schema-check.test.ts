/**
 * The validator agrees with Kubernetes (issue 17): the shipped 2.0.0 CRDs are installed on the
 * real API server (each under a group of its own, so no mesh of another test is touched), every
 * object of the case table is created there, and the server's verdict is compared with
 * checkObject's: valid (created as the validator says it is stored), pruned (Strict names exactly
 * the fields the validator prunes; without Strict they are gone from the stored object), rejected
 * (422 naming exactly the validator's paths).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkObject } from '../../src/backup/schema-check.ts';
import { crdsForVersion, type CrdData } from '../../src/mesh/crd-schemas.ts';
import { KubeApiError, type KubeObject } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath, type ResourceRef } from '../../src/kube/paths.ts';
import { testKube, uniqueName } from '../support/cluster.ts';
import { schemaCases } from '../fixtures/schema-cases.ts';

const suffix = 'schema-check.nsm-upgrade.test';
const ns = uniqueName('schema-check');
const crds = crdsForVersion('2.0.0')!;
const moved = (group: string) => `${group}.${suffix}`;

function crdManifest(c: CrdData) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${c.plural}.${moved(c.group)}` },
    spec: {
      group: moved(c.group),
      scope: c.scope,
      names: { kind: c.kind, plural: c.plural, listKind: `${c.kind}List`, singular: c.kind.toLowerCase() },
      versions: c.versions.map((v) => ({
        name: v.name,
        served: v.served,
        storage: v.storage,
        schema: { openAPIV3Schema: v.schema },
      })),
    },
  };
}

const crdRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };

beforeAll(async () => {
  const kube = await testKube();
  await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name: ns } } });
  for (const c of crds) await kube.request({ method: 'POST', path: collectionPath(crdRef), body: crdManifest(c) });
  for (const c of crds) {
    for (let i = 0; ; i++) {
      const got = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>({
        path: objectPath(crdRef, `${c.plural}.${moved(c.group)}`),
      });
      if (got.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (i > 100) throw new Error(`CRD ${c.name} not Established`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}, 60_000);

afterAll(async () => {
  const kube = await testKube();
  for (const c of crds)
    await kube
      .request({ method: 'DELETE', path: objectPath(crdRef, `${c.plural}.${moved(c.group)}`) })
      .catch(() => undefined);
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, ns) }).catch(() => undefined);
});

/** The case's object as sent to the server: its group moved, in the test's namespace, a name per attempt. */
function onServer(obj: KubeObject, name: string): { body: KubeObject; ref: ResourceRef } {
  const [group, version] = (obj.apiVersion as string).split('/') as [string, string];
  const c = crds.find((x) => x.group === group && x.kind === obj.kind)!;
  return {
    body: { ...structuredClone(obj), apiVersion: `${moved(group)}/${version}`, metadata: { name, namespace: ns } },
    ref: { group: moved(group), version, plural: c.plural, namespaced: true },
  };
}

async function create(
  obj: KubeObject,
  name: string,
  fieldValidation: 'Strict' | 'Ignore',
): Promise<{ ok: true; stored: KubeObject } | { ok: false; err: KubeApiError }> {
  const kube = await testKube();
  const { body, ref } = onServer(obj, name);
  try {
    await kube.request({
      method: 'POST',
      path: collectionPath(ref, ns),
      query: { fieldValidation },
      body,
      noRetry: true,
    });
    return { ok: true, stored: await kube.request<KubeObject>({ path: objectPath(ref, name, ns) }) };
  } catch (err) {
    if (err instanceof KubeApiError) return { ok: false, err };
    throw err;
  }
}

const causes = (err: KubeApiError) =>
  ((err.body as { details?: { causes?: { field?: string }[] } }).details?.causes ?? []).map((c) => c.field ?? '');
const unknownFields = (err: KubeApiError) => [...err.message.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1]!);

describe('the schema check agrees with the API server (2.0.0 CRDs)', () => {
  schemaCases.forEach((c, i) => {
    it(`${c.name}: ${c.verdict}`, async () => {
      const mine = checkObject(c.obj, crds);
      expect(mine.verdict).toBe(c.verdict);
      if (c.verdict === 'valid') {
        const r = await create(c.obj, `case-${i}`, 'Strict');
        expect(r.ok, r.ok ? '' : r.err.message).toBe(true);
        if (r.ok) expect(r.stored.spec).toEqual(mine.result.spec);
      } else if (c.verdict === 'pruned') {
        const strict = await create(c.obj, `case-${i}-strict`, 'Strict');
        expect(strict.ok).toBe(false);
        if (!strict.ok) expect(unknownFields(strict.err).sort()).toEqual([...mine.pruned].sort());
        const r = await create(c.obj, `case-${i}`, 'Ignore');
        expect(r.ok, r.ok ? '' : r.err.message).toBe(true);
        if (r.ok) expect(r.stored.spec).toEqual(mine.result.spec);
      } else {
        const r = await create(c.obj, `case-${i}`, 'Ignore');
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.err.status, r.err.message).toBe(422);
          expect([...new Set(causes(r.err))].sort(), r.err.message).toEqual(
            [...new Set(mine.rejected.map((x) => x.path))].sort(),
          );
        }
      }
    });
  });
});
