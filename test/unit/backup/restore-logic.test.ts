import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isMissingNamespace,
  isTransient,
  matchesDigest,
  restoredDigest,
  sameAsBackup,
} from '../../../src/backup/apply.ts';
import { crdReady } from '../../../src/backup/crd-wait.ts';
import { formatSummary, isResolved, reportFile, summarize, writeRestoreReport } from '../../../src/backup/report.ts';
import { KubeApiError } from '../../../src/kube/client.ts';

const apiErr = (status: number, body: unknown) => new KubeApiError(status, 'POST /apis/x', body);

describe('restore decisions', () => {
  it('retries an unreachable webhook, 429 and 5xx, and a kind not served yet; not schema errors', () => {
    expect(
      isTransient(
        apiErr(500, {
          message: 'Internal error occurred: failed calling webhook "v.nsm.nginx.com": connection refused',
          reason: 'InternalError',
        }),
      ),
    ).toBe(true);
    expect(isTransient(apiErr(429, { reason: 'TooManyRequests' }))).toBe(true);
    expect(isTransient(apiErr(503, {}))).toBe(true);
    expect(
      isTransient(apiErr(404, { reason: 'NotFound', message: 'the server could not find the requested resource' })),
    ).toBe(true);
    expect(
      isTransient(
        apiErr(403, {
          reason: 'Forbidden',
          message: 'create not allowed while custom resource definition is terminating',
        }),
      ),
    ).toBe(true);
    expect(isTransient(apiErr(422, { reason: 'Invalid', message: 'spec.weight: Invalid value' }))).toBe(false);
    expect(isTransient(apiErr(409, { reason: 'AlreadyExists' }))).toBe(false);
  });

  it('tells a missing namespace from a missing kind', () => {
    expect(isMissingNamespace(apiErr(404, { reason: 'NotFound', details: { name: 'shop', kind: 'namespaces' } }))).toBe(
      true,
    );
    expect(isMissingNamespace(apiErr(404, { reason: 'NotFound' }))).toBe(false);
    expect(
      isMissingNamespace(
        apiErr(403, {
          reason: 'Forbidden',
          message: 'unable to create new content in namespace shop because it is being terminated',
        }),
      ),
    ).toBe(true);
    expect(isMissingNamespace(apiErr(403, { reason: 'Forbidden', message: 'user cannot create' }))).toBe(false);
    expect(isTransient(apiErr(404, { reason: 'NotFound', details: { kind: 'namespaces' } }))).toBe(false);
  });

  it('compares live objects with the backup by spec, labels and annotations only', () => {
    const backup = { kind: 'K', metadata: { name: 'a', namespace: 'n', labels: { x: '1' } }, spec: { w: 1 } };
    const live = {
      ...backup,
      metadata: {
        ...backup.metadata,
        uid: 'u',
        resourceVersion: '5',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      status: { s: 1 },
    };
    expect(sameAsBackup(live, backup)).toBe(true);
    expect(sameAsBackup({ ...live, spec: { w: 2 } }, backup)).toBe(false);
    expect(sameAsBackup({ ...live, metadata: { ...live.metadata, labels: {} } }, backup)).toBe(false);
  });

  it('verifies by digest exactly as sameAsBackup does (the restore keeps digests, not objects)', () => {
    const backup = {
      kind: 'K',
      metadata: {
        name: 'a',
        namespace: 'n',
        labels: { x: '1', y: '2' },
        annotations: { team: 't' },
        ownerReferences: [{ uid: 'o1' }],
      },
      spec: { w: 1, list: [{ a: 1, b: [2, 3] }], nested: { p: 'q', r: null } },
    };
    const live = {
      ...backup,
      metadata: {
        ...backup.metadata,
        uid: 'u',
        resourceVersion: '5',
        ownerReferences: [{ uid: 'o2' }, { uid: 'o1' }],
        annotations: { team: 't', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      status: { s: 1 },
    };
    // Key order differs, a controller added an owner, bookkeeping annotations: equal both ways.
    const reordered = {
      ...live,
      metadata: { ...live.metadata, labels: { y: '2', x: '1' } },
      spec: { nested: { r: null, p: 'q' }, list: [{ b: [2, 3], a: 1 }], w: 1 },
    };
    const variants = [
      live,
      reordered,
      { ...live, spec: { ...live.spec, w: 2 } }, // a value
      { ...live, spec: { ...live.spec, list: [{ a: 1, b: [3, 2] }] } }, // array order matters
      { ...live, spec: { ...live.spec, extra: 0 } }, // a field more
      { ...live, metadata: { ...live.metadata, labels: { x: '1' } } }, // a label less
      { ...live, metadata: { ...live.metadata, annotations: {} } }, // an annotation less
      { ...live, metadata: { ...live.metadata, ownerReferences: [{ uid: 'o2' }] } }, // the kept owner gone
      { ...live, spec: { ...live.spec, w: '1' } }, // a string for a number
    ];
    const digest = restoredDigest(backup);
    for (const v of variants) expect(matchesDigest(v, digest), JSON.stringify(v.spec)).toBe(sameAsBackup(v, backup));
    expect(variants.map((v) => matchesDigest(v, digest))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('knows when a CRD is Established and serving the version', () => {
    const crd = (established: string, versions: { name: string; served: boolean }[]) => ({
      spec: { versions },
      status: { conditions: [{ type: 'Established', status: established }] },
    });
    expect(crdReady(crd('True', [{ name: 'v1alpha2', served: true }]), 'v1alpha2')).toBe(true);
    expect(crdReady(crd('False', [{ name: 'v1alpha2', served: true }]), 'v1alpha2')).toBe(false);
    expect(crdReady(crd('True', [{ name: 'v1alpha2', served: false }]), 'v1alpha2')).toBe(false);
    expect(crdReady(undefined, 'v1')).toBe(false);
    const terminating = {
      ...crd('True', [{ name: 'v1alpha2', served: true }]),
      metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' },
    };
    expect(crdReady(terminating, 'v1alpha2')).toBe(false);
  });

  it('counts unresolved objects: differs, missing namespace, failed, unverified', () => {
    const item = (outcome: 'created' | 'differs' | 'missing-namespace' | 'unchanged', verified?: boolean) => ({
      kind: 'TrafficSplit',
      namespace: 'n',
      name: outcome,
      outcome,
      attempts: 1,
      ...(verified === undefined ? {} : { verified }),
    });
    const base = {
      dir: '/b',
      startedAt: '',
      finishedAt: '',
      seconds: 1.5,
      dryRun: false,
      onConflict: 'skip' as const,
      backupMeshVersion: null,
      targetMeshVersion: null,
      crdsNotEstablished: [],
      lastCreatedAt: null,
    };
    const r = summarize(
      [
        item('created', true),
        item('unchanged', true),
        item('created', false),
        item('differs'),
        item('missing-namespace'),
      ],
      base,
    );
    expect(r.unresolved).toBe(3);
    expect(r.verifyFailures).toBe(1);
    expect(r.missingNamespaces).toEqual(['n']);
    expect(formatSummary(r)).toMatch(/created 2, unchanged 1, overwritten 0, differs 1/);
    expect(isResolved(item('created'), true)).toBe(true); // dry-run: nothing to verify
  });
});

describe('the restore report file', () => {
  it.each([0, 1, 2500])('is the report as JSON, written in pieces (%i objects), 0600', async (n) => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'nsm-report-'));
    try {
      const items = Array.from({ length: n }, (_, i) => ({
        kind: 'TrafficSplit',
        namespace: 'shop',
        name: `ts-${i}`,
        outcome: 'created' as const,
        attempts: 1,
        verified: true,
        ...(i % 7 ? {} : { detail: 'a "quoted" detail\nover lines' }),
      }));
      const report = summarize(items, {
        dir,
        startedAt: 'a',
        finishedAt: 'b',
        seconds: 1,
        dryRun: false,
        onConflict: 'skip',
        backupMeshVersion: null,
        targetMeshVersion: '1.7.0',
        crdsNotEstablished: [],
        lastCreatedAt: null,
      });
      await writeRestoreReport(fsp, report);
      expect(JSON.parse(await fsp.readFile(path.join(dir, reportFile), 'utf8'))).toEqual(report);
      expect((await fsp.stat(path.join(dir, reportFile))).mode & 0o777).toBe(0o600);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
