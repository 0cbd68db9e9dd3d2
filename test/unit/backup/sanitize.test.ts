import { describe, expect, it } from 'vitest';
import { jsonEqual, restorable, sanitizeForCreate } from '../../../src/backup/sanitize.ts';
import { sameAsBackup } from '../../../src/backup/apply.ts';
import { forCreate, recordsOf } from '../../../src/backup/owner-refs.ts';

const exported = {
  apiVersion: 'split.smi-spec.io/v1alpha3',
  kind: 'TrafficSplit',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: '2024-01-01T00:00:00Z',
    deletionTimestamp: '2024-01-02T00:00:00Z',
    managedFields: [{ manager: 'kubectl' }],
    selfLink: '/apis/x',
    ownerReferences: [
      {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        name: 'web',
        uid: 'o-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
    finalizers: ['flagger.app/finalizer'],
    labels: { app: 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}', team: 'payments' },
  },
  spec: { service: 'web', backends: [{ service: 'web-v1', weight: 90 }] },
  status: { observed: true },
};

describe('sanitizeForCreate', () => {
  it('drops server-owned fields and status, keeps labels, other annotations and spec; owner references and finalizers become annotations', () => {
    expect(sanitizeForCreate(exported)).toEqual({
      apiVersion: 'split.smi-spec.io/v1alpha3',
      kind: 'TrafficSplit',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web' },
        annotations: {
          team: 'payments',
          'nsm-upgrade.nginx.com/owner-references':
            '[{"apiVersion":"flagger.app/v1beta1","kind":"Canary","name":"web","uid":"o-1","controller":true,"blockOwnerDeletion":true}]',
          'nsm-upgrade.nginx.com/finalizers': '["flagger.app/finalizer"]',
        },
      },
      spec: { service: 'web', backends: [{ service: 'web-v1', weight: 90 }] },
    });
    expect(recordsOf(sanitizeForCreate(exported))).toEqual({
      owners: exported.metadata.ownerReferences,
      finalizers: ['flagger.app/finalizer'],
      unreadable: [],
    });
  });

  it('replaces a stale record (an object once created from a backup file) with what the object holds now', () => {
    const stale = {
      ...exported,
      metadata: {
        name: 'web',
        namespace: 'shop',
        annotations: {
          'nsm-upgrade.nginx.com/owner-references': '[{"apiVersion":"v1","kind":"ConfigMap","name":"old","uid":"u"}]',
        },
      },
    };
    expect(sanitizeForCreate(stale).metadata).toEqual({ name: 'web', namespace: 'shop' });
  });

  it('does not mutate its input and removes an annotation map left empty', () => {
    const { ownerReferences: _o, finalizers: _f, ...meta } = exported.metadata;
    const only = {
      ...exported,
      metadata: { ...meta, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    };
    const out = sanitizeForCreate(only);
    expect(out.metadata).not.toHaveProperty('annotations');
    expect(only.metadata.annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    expect(exported.metadata.uid).toBe('u-1');
    expect(out.metadata).not.toBe(only.metadata);
    expect(out.spec).toEqual(exported.spec);
  });

  it('compares what a restore must reproduce, ignoring server fields and key order', () => {
    const live = {
      ...exported,
      metadata: { ...exported.metadata, resourceVersion: '99' },
      spec: { backends: [{ weight: 90, service: 'web-v1' }], service: 'web' },
    };
    expect(jsonEqual(restorable(live), restorable(sanitizeForCreate(exported)))).toBe(true);
    const changed = { ...exported, spec: { ...exported.spec, service: 'other' } };
    expect(jsonEqual(restorable(changed), restorable(exported))).toBe(false);
  });
});

describe('owner references at restore (forCreate, sameAsBackup)', () => {
  const backedUp = sanitizeForCreate(exported);
  const owner = exported.metadata.ownerReferences[0]!;

  it('creates with the kept owner references and without the records; none kept, none set', () => {
    const body = forCreate(backedUp, [owner]);
    expect(body.metadata).toEqual({
      name: 'web',
      namespace: 'shop',
      labels: { app: 'web' },
      annotations: { team: 'payments' },
      ownerReferences: [owner],
    });
    expect(forCreate(backedUp, []).metadata).not.toHaveProperty('ownerReferences');
    expect(
      forCreate(
        {
          ...backedUp,
          metadata: { name: 'x', namespace: 'y', annotations: { 'nsm-upgrade.nginx.com/finalizers': '["f"]' } },
        },
        [],
      ).metadata,
    ).toEqual({ name: 'x', namespace: 'y' });
  });

  it('a live object without a kept owner reference is not the backup; the records and an owner a controller added are not differences', () => {
    const body = forCreate(backedUp, [owner]);
    const live = { ...body, metadata: { ...body.metadata, uid: 'new', resourceVersion: '1' } };
    expect(sameAsBackup(live, body)).toBe(true);
    expect(sameAsBackup({ ...live, metadata: { ...live.metadata, ownerReferences: [] } }, body)).toBe(false);
    expect(
      sameAsBackup(
        { ...live, metadata: { ...live.metadata, ownerReferences: [owner, { ...owner, uid: 'other' }] } },
        body,
      ),
    ).toBe(true);
    // The backup file itself (records, no ownerReferences) against a live object created from it by kubectl create -f.
    expect(sameAsBackup({ ...backedUp, metadata: { ...backedUp.metadata, uid: 'n' } }, backedUp)).toBe(true);
  });

  it('a record that is not what a backup writes is reported, never followed', () => {
    const hostile = {
      ...backedUp,
      metadata: {
        name: 'web',
        namespace: 'shop',
        annotations: {
          'nsm-upgrade.nginx.com/owner-references': '{"not":"a list"}',
          'nsm-upgrade.nginx.com/finalizers': '[1]',
        },
      },
    };
    expect(recordsOf(hostile)).toEqual({
      owners: [],
      finalizers: [],
      unreadable: ['nsm-upgrade.nginx.com/owner-references', 'nsm-upgrade.nginx.com/finalizers'],
    });
    expect(
      recordsOf({
        ...hostile,
        metadata: {
          name: 'a',
          namespace: 'b',
          annotations: { 'nsm-upgrade.nginx.com/owner-references': '[{"kind":"Canary","name":"x"}]' },
        },
      }).unreadable,
    ).toEqual(['nsm-upgrade.nginx.com/owner-references']);
  });
});
