import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { catalog, meshCrdSelector, resourceName } from '../../../src/mesh/catalog.ts';
import { repoRoot } from '../../support/cluster.ts';
import { loadDocs, manifestsDir } from './manifests.ts';

interface Crd {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular?: string; shortNames?: string[] };
    versions: { name: string; served: boolean; storage: boolean; schema?: unknown }[];
  };
}

const files = fs.readdirSync(path.join(manifestsDir, 'crds')).filter((f) => f.endsWith('.yaml'));
const crds = files.flatMap((f) => loadDocs(`crds/${f}`).map((d) => ({ file: f, crd: d as unknown as Crd })));
const [labelKey, labelValue] = meshCrdSelector.split('=') as [string, string];

/** The 2.0.0 fixture chart's CRDs (copied from the real chart's names and versions). */
const chartCrds = (() => {
  const dir = path.join(repoRoot, 'test/fixtures/charts/nginx-service-mesh/2.0.0/crds');
  return fs
    .readdirSync(dir)
    .flatMap((f) => loadAll(fs.readFileSync(path.join(dir, f), 'utf8')) as Crd[])
    .filter((d) => d?.kind === 'CustomResourceDefinition');
})();

describe('manifests/crds', () => {
  it('holds one CRD per catalog kind and nothing else, one per file named after it', () => {
    expect(crds.map((c) => c.crd.metadata.name).sort()).toEqual(catalog.map((k) => resourceName(k)).sort());
    for (const { file, crd } of crds) expect(file).toBe(`${crd.metadata.name}.yaml`);
  });

  for (const k of catalog) {
    it(`${k.kind}: group, plural, scope, served versions and storage version match the catalog`, () => {
      const crd = crds.find((c) => c.crd.metadata.name === resourceName(k))!.crd;
      expect(crd.kind).toBe('CustomResourceDefinition');
      expect(crd.spec.group).toBe(k.group);
      expect(crd.spec.names.kind).toBe(k.kind);
      expect(crd.spec.names.plural).toBe(k.plural);
      expect(crd.spec.scope).toBe(k.namespaced ? 'Namespaced' : 'Cluster');
      expect(crd.spec.versions.filter((v) => v.served).map((v) => v.name)).toEqual([...k.versions]);
      expect(crd.spec.versions.filter((v) => v.storage).map((v) => v.name)).toEqual([k.storageVersion]);
      // Backup captures CRDs by this label; a restore onto a bare cluster must find them the same way.
      expect(crd.metadata.labels?.[labelKey]).toBe(labelValue);
      for (const v of crd.spec.versions)
        expect(v.schema, `${k.kind} ${v.name} needs a schema (apiextensions v1)`).toBeDefined();
    });

    it(`${k.kind}: names and short names agree with the NSM 2.0 chart's CRD`, () => {
      const ours = crds.find((c) => c.crd.metadata.name === resourceName(k))!.crd;
      const chart = chartCrds.find((c) => c.metadata.name === resourceName(k));
      expect(chart, `the 2.0.0 chart defines ${resourceName(k)}`).toBeDefined();
      expect(ours.spec.names).toEqual({ ...chart!.spec.names });
      expect(ours.spec.versions.map((v) => v.name)).toEqual(chart!.spec.versions.map((v) => v.name));
    });
  }
});
