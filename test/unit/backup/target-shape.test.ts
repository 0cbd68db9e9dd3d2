import { describe, expect, it } from 'vitest';
import { shapeForTarget } from '../../../src/backup/target-shape.ts';
import type { CrdData } from '../../../src/mesh/crd-schemas.ts';
import { crdsForVersion } from '../../../src/mesh/crd-schemas.ts';

const schema = { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } };
const crds: CrdData[] = [
  {
    name: 'widgets.example.com',
    group: 'example.com',
    kind: 'Widget',
    plural: 'widgets',
    scope: 'Namespaced',
    conversion: 'None',
    versions: [
      { name: 'v1alpha1', served: false, storage: false, schema },
      { name: 'v1', served: true, storage: true, schema },
    ],
  },
];
const widget = (version: string, spec: Record<string, unknown>) => ({
  apiVersion: `example.com/${version}`,
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'n' },
  spec,
});
const versions = { from: '1.6.0', to: '1.7.0' };

describe('shapeForTarget: the object as the target stores it (restore writes it, verify expects it)', () => {
  it("without the target's CRDs: the version transforms only", () => {
    expect(shapeForTarget(widget('v1alpha1', { size: 1, extra: 1 }), versions, undefined)).toEqual({
      obj: widget('v1alpha1', { size: 1, extra: 1 }),
      transforms: [],
    });
  });
  it('a version the target does not serve: written as its storage version, and said', () => {
    const s = shapeForTarget(widget('v1alpha1', { size: 1 }), versions, { crds, acceptPruning: false });
    expect(s).toMatchObject({ obj: { apiVersion: 'example.com/v1', spec: { size: 1 } }, converted: 'v1alpha1 -> v1' });
  });
  it('fields the schema does not declare: kept (Strict refuses them, the preflight said so) unless the loss was accepted', () => {
    expect(shapeForTarget(widget('v1', { size: 1, extra: 1 }), versions, { crds, acceptPruning: false })).toEqual({
      obj: widget('v1', { size: 1, extra: 1 }),
      transforms: [],
    });
    expect(shapeForTarget(widget('v1', { size: 1, extra: 1 }), versions, { crds, acceptPruning: true })).toEqual({
      obj: widget('v1', { size: 1 }),
      transforms: [],
      pruned: ['spec.extra'],
    });
  });
  it('a 1.4 HTTPRouteGroup: transformed first, then valid on 1.5', () => {
    const rg = {
      apiVersion: 'specs.smi-spec.io/v1alpha3',
      kind: 'HTTPRouteGroup',
      metadata: { name: 'r', namespace: 'n' },
      spec: { matches: [{ name: 'a', headers: [{ 'x-a': '1' }] }] },
    };
    const s = shapeForTarget(
      rg,
      { from: '1.4.0', to: '1.5.0' },
      { crds: crdsForVersion('1.5.0')!, acceptPruning: false },
    );
    expect(s.transforms).toEqual(['httproutegroup-headers-list-to-object']);
    expect(s.obj.spec).toEqual({ matches: [{ name: 'a', headers: { 'x-a': '1' } }] });
  });
});
