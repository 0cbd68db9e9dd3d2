import { describe, expect, it } from 'vitest';
import { jsonEqual, restorable, sanitizeForCreate } from '../../../src/backup/sanitize.ts';

const exported = {
  apiVersion: 'split.smi-spec.io/v1alpha3',
  kind: 'TrafficSplit',
  metadata: {
    name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '42', generation: 3, creationTimestamp: '2024-01-01T00:00:00Z',
    deletionTimestamp: '2024-01-02T00:00:00Z', managedFields: [{ manager: 'kubectl' }], selfLink: '/apis/x', ownerReferences: [{ uid: 'o' }],
    labels: { app: 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}', team: 'payments' },
  },
  spec: { service: 'web', backends: [{ service: 'web-v1', weight: 90 }] },
  status: { observed: true },
};

describe('sanitizeForCreate', () => {
  it('drops server-owned fields and status, keeps labels, other annotations and spec', () => {
    expect(sanitizeForCreate(exported)).toEqual({
      apiVersion: 'split.smi-spec.io/v1alpha3', kind: 'TrafficSplit',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { team: 'payments' } },
      spec: { service: 'web', backends: [{ service: 'web-v1', weight: 90 }] },
    });
  });

  it('does not mutate its input and removes an annotation map left empty', () => {
    const only = { ...exported, metadata: { ...exported.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } } };
    const out = sanitizeForCreate(only);
    expect(out.metadata).not.toHaveProperty('annotations');
    expect(only.metadata.annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    expect(exported.metadata.uid).toBe('u-1');
    expect(out.metadata).not.toBe(only.metadata);
    expect(out.spec).toEqual(exported.spec);
  });

  it('compares what a restore must reproduce, ignoring server fields and key order', () => {
    const live = { ...exported, metadata: { ...exported.metadata, resourceVersion: '99' }, spec: { backends: [{ weight: 90, service: 'web-v1' }], service: 'web' } };
    expect(jsonEqual(restorable(live), restorable(sanitizeForCreate(exported)))).toBe(true);
    const changed = { ...exported, spec: { ...exported.spec, service: 'other' } };
    expect(jsonEqual(restorable(changed), restorable(exported))).toBe(false);
  });
});
