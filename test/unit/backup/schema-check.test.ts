import fs from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { checkObject, describeCheck, toJsonSchema } from '../../../src/backup/schema-check.ts';
import { crdsForVersion, shippedCrdVersions, type CrdData } from '../../../src/mesh/crd-schemas.ts';
import { crdSchemaVersions, renderCrdSchemas } from '../../../src/mesh/crd-data-gen.ts';
import { isAtLeast } from '../../../src/version-compare.ts';
import { schemaCases } from '../../fixtures/schema-cases.ts';
import { repoRoot } from '../../support/cluster.ts';

const chartsDir = path.resolve(repoRoot, process.env.NSM_REFERENCE_CHARTS ?? '../shared/nsm-reference/charts');

describe('the shipped CRD schemas', () => {
  it('cover every version the tool upgrades to, each kind of the catalog that version defines', () => {
    expect(shippedCrdVersions).toEqual([...crdSchemaVersions]);
    for (const v of shippedCrdVersions) {
      const kinds = crdsForVersion(v)!.map((c) => c.kind);
      expect(kinds).toEqual(
        expect.arrayContaining([
          'TrafficSplit',
          'TrafficTarget',
          'HTTPRouteGroup',
          'TCPRoute',
          'RateLimit',
          'CircuitBreaker',
        ]),
      );
      expect(kinds.includes('MeshConfig')).toBe(v === '2.0.0');
    }
  });

  it('are what scripts/gen-crd-schemas.ts makes of the public charts', (ctx) => {
    ctx.skip(!fs.existsSync(chartsDir), `the reference charts are not at ${chartsDir} (set NSM_REFERENCE_CHARTS)`);
    for (const v of crdSchemaVersions) {
      const dir = path.join(chartsDir, v, 'crds');
      const docs = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .flatMap((f) => loadAll(fs.readFileSync(path.join(dir, f), 'utf8')));
      expect(fs.readFileSync(path.join(repoRoot, 'src/mesh/crd-schemas', `${v}.json`), 'utf8'), v).toBe(
        renderCrdSchemas(v, docs),
      );
    }
  });
});

describe('checkObject against each shipped version', () => {
  for (const version of shippedCrdVersions) {
    for (const c of schemaCases) {
      const defined = !c.since || isAtLeast(version, c.since);
      it(`${version}: ${c.name}: ${defined ? c.verdict : 'rejected (the kind does not exist yet)'}`, () => {
        const r = checkObject(c.obj, crdsForVersion(version)!);
        if (!defined) {
          expect(r.verdict).toBe('rejected');
          expect(r.rejected[0]!.rule).toContain('defines no');
          return;
        }
        expect(r.verdict, describeCheck(r)).toBe(c.verdict);
        const paths = c.verdict === 'pruned' ? r.pruned : r.rejected.map((x) => x.path);
        expect([...new Set(paths)].sort()).toEqual([...c.paths].sort());
        if (c.verdict === 'pruned')
          for (const p of c.paths)
            expect(JSON.stringify(r.result)).not.toContain(
              p
                .split('.')
                .pop()!
                .replace(/\[\d+\]$/, ''),
            );
      });
    }
  }

  it('names the rule the API server would give', () => {
    const r = checkObject(schemaCases.find((c) => c.name.includes('rate the pattern'))!.obj, crdsForVersion('1.7.0')!);
    expect(r.rejected).toEqual(
      expect.arrayContaining([
        { path: 'spec.rate', rule: "should match '^[0-9]+r/[s,m]$'" },
        { path: 'spec.delay', rule: 'must be an integer or a string (x-kubernetes-int-or-string)' },
      ]),
    );
    expect(describeCheck(r)).toMatch(/^RateLimit schema-cases\/rl: rejected: /);
  });
});

describe('structural rules the charts do not exercise', () => {
  const crd = (versions: CrdData['versions']): CrdData[] => [
    {
      name: 'widgets.example.com',
      group: 'example.com',
      kind: 'Widget',
      plural: 'widgets',
      scope: 'Namespaced',
      conversion: 'None',
      versions,
    },
  ];
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          size: { type: 'integer', default: 3, minimum: 1, exclusiveMinimum: true },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          free: {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
            properties: { known: { type: 'string' } },
          },
          inner: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
          note: { type: 'string' },
          maybe: { type: 'string', nullable: true },
        },
      },
    },
  };
  const widget = (version: string, spec: Record<string, unknown>) => ({
    apiVersion: `example.com/${version}`,
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'n' },
    spec,
  });

  it('fills defaults, keeps additionalProperties, preserved and embedded fields, drops a null that is not nullable', () => {
    const r = checkObject(
      widget('v1', {
        labels: { a: 'b' },
        free: { anything: 1, known: 'k' },
        inner: { apiVersion: 'v1', kind: 'X', metadata: { name: 'x' }, spec: {}, junk: 1 },
        note: null,
        maybe: null,
      }),
      crd([{ name: 'v1', served: true, storage: true, schema }]),
    );
    expect(r.defaulted).toEqual(['spec.size']);
    expect(r.pruned).toEqual(['spec.inner.junk']);
    expect(r.result.spec).toEqual({
      size: 3,
      labels: { a: 'b' },
      free: { anything: 1, known: 'k' },
      inner: { apiVersion: 'v1', kind: 'X', metadata: { name: 'x' }, spec: {} },
      maybe: null,
    });
    expect(r.verdict).toBe('pruned');
  });

  it('a boolean exclusiveMinimum (OpenAPI v3.0) is honoured', () => {
    expect(toJsonSchema({ type: 'integer', minimum: 1, exclusiveMinimum: true })).toEqual({
      type: 'integer',
      exclusiveMinimum: 1,
    });
    const r = checkObject(widget('v1', { size: 1 }), crd([{ name: 'v1', served: true, storage: true, schema }]));
    expect(r.rejected).toEqual([{ path: 'spec.size', rule: expect.stringContaining('exclusiveMinimum') }]);
  });

  it('a version the target no longer serves is converted to its storage version, and says so', () => {
    const r = checkObject(
      widget('v1alpha1', { size: 2 }),
      crd([
        { name: 'v1alpha1', served: false, storage: false, schema },
        { name: 'v1', served: true, storage: true, schema },
      ]),
    );
    expect(r).toMatchObject({
      verdict: 'valid',
      converted: { from: 'v1alpha1', to: 'v1' },
      writtenAs: 'example.com/v1',
    });
    expect(describeCheck(r)).toBe('Widget n/w (converted v1alpha1 -> v1): valid');
  });
});

describe("the preflight's report over the hops", async () => {
  const { schemaReport, schemaFailures } = await import('../../../src/engine/phases/schema-report.ts');
  const objects = [
    schemaCases.find((c) => c.verdict === 'valid')!.obj,
    schemaCases.find((c) => c.name.includes('CircuitBreaker'))!.obj,
    schemaCases.find((c) => c.name.includes('headers as a list'))!.obj,
  ];
  const reports = ['1.7.0', '2.0.0'].map((to, i) =>
    schemaReport(objects, '1.6.0', { index: i + 1, to }, { source: `NSM ${to}`, crds: crdsForVersion(to)! }),
  );

  it('counts each verdict per hop; a 1.4-shaped object is converted by the restore transform before the check', () => {
    expect(reports[0]!.counts).toEqual({ valid: 1, pruned: 1, rejected: 1, converted: 0 });
    const from14 = schemaReport(
      objects,
      '1.4.0',
      { index: 1, to: '1.5.0' },
      { source: 'NSM 1.5.0', crds: crdsForVersion('1.5.0')! },
    );
    expect(from14.counts).toEqual({ valid: 2, pruned: 1, rejected: 0, converted: 0 });
  });

  it('one failure per object (its first hop): rejections always, losses unless accepted', () => {
    const all = schemaFailures(reports, false);
    expect(all.map((f) => f.message)).toEqual([
      "hop 1: CircuitBreaker schema-cases/cb: would lose spec.retries (not in the target's schema)",
      "hop 1: NSM 1.7.0's schema rejects HTTPRouteGroup schema-cases/routes: rejected: spec.matches[0].headers: must be of type object",
    ]);
    expect(all[0]!.fix).toContain('--accept-pruning');
    expect(schemaFailures(reports, true).map((f) => f.message)).toEqual([all[1]!.message]);
  });
});
