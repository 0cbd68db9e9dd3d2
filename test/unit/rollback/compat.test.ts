import { describe, expect, it } from 'vitest';
import {
  crdDifferences,
  meshConfigChanges,
  restorableRevisions,
  unknownFields,
  valueDifferences,
  whyNotHeld,
  type CrdLike,
  type Schema,
} from '../../../src/engine/phases/compat.ts';
import { parseRollbackJournal } from '../../../src/rollback/journal.ts';
import { rollbackCalledFor } from '../../../src/cli/rollback-on-failure.ts';
import { Secret } from '../../../src/secret.ts';

const crd = (
  name: string,
  versions: { name: string; served?: boolean; storage?: boolean; schema?: Schema }[],
): CrdLike => ({
  metadata: { name },
  spec: {
    group: 'g',
    versions: versions.map((v) => ({
      served: true,
      storage: false,
      ...v,
      schema: { openAPIV3Schema: v.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    })),
  },
});

describe('crdDifferences', () => {
  it('names missing, added and changed CRDs; equal ones are not named', () => {
    const a = crd('a.g', [{ name: 'v1', storage: true }]);
    const b = crd('b.g', [{ name: 'v1', storage: true }]);
    expect(crdDifferences([a, b], [a, b])).toEqual([]);
    expect(crdDifferences([a, crd('c.g', [{ name: 'v1' }])], [a, b])).toEqual([
      'CRD b.g is missing (the backup has it: v1 (storage))',
      'CRD c.g was added since the backup',
    ]);
    expect(crdDifferences([crd('a.g', [{ name: 'v1' }, { name: 'v2', storage: true }])], [a])).toEqual([
      'CRD a.g serves v1, v2 (storage); the backup has v1 (storage)',
    ]);
    expect(crdDifferences([crd('a.g', [{ name: 'v1', storage: true, schema: { type: 'object' } }])], [a])).toEqual([
      "CRD a.g: its schema differs from the backup's",
    ]);
  });
});

describe('unknownFields and whyNotHeld', () => {
  const schema: Schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          service: { type: 'string' },
          backends: { type: 'array', items: { type: 'object', properties: { weight: { type: 'integer' } } } },
          extra: { type: 'object', additionalProperties: { type: 'string' } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };
  it('lists the paths the schema has no place for', () => {
    expect(
      unknownFields(schema, {
        spec: {
          service: 's',
          backends: [{ weight: 1, mirror: true }],
          extra: { a: 'b' },
          free: { x: { y: 1 } },
          canary: 1,
        },
      }),
    ).toEqual(['spec.backends[0].mirror', 'spec.canary']);
    expect(unknownFields({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, { anything: 1 })).toEqual(
      [],
    );
  });
  it('an object the old CRD cannot hold: no CRD, a version it does not serve, a field its schema lacks', () => {
    const old = crd('ts.g', [{ name: 'v1alpha3', storage: true, schema }]);
    const obj = { apiVersion: 'g/v1alpha3', kind: 'TrafficSplit', metadata: { name: 'x' }, spec: { service: 's' } };
    expect(whyNotHeld(obj, old, 'v1alpha3')).toBeUndefined();
    expect(whyNotHeld(obj, undefined, 'v1alpha3')).toBe('its kind has no CRD in the old version');
    expect(whyNotHeld(obj, old, 'v1beta1')).toBe('the old CRD does not serve v1beta1 (it serves v1alpha3 (storage))');
    expect(whyNotHeld({ ...obj, spec: { service: 's', mirror: 'm' } }, old, 'v1alpha3')).toBe(
      "the old CRD's schema has no field spec.mirror",
    );
  });
});

describe('meshConfigChanges: what was changed in nginx-mesh-config after the 2.0 hop', () => {
  const rendered = {
    meshConfigClassName: 'nginx-mesh-meshconfig-class',
    accessControlMode: 'allow',
    clientMaxBodySize: '8m',
    mtls: { mode: 'strict', caTTL: '720h', svidTTL: '1h', caKeyType: 'ec-p256' },
    nginxErrorLogLevel: 'warn',
    nginxLBMethod: 'least_time',
    nginxLogFormat: 'default',
    prometheusAddress: '',
    telemetry: {},
  };
  const values = { clientMaxBodySize: '8m', mtls: { mode: 'strict' } };
  it('nothing when the spec is what the chart rendered from the values (defaults filled in)', () => {
    expect(meshConfigChanges(rendered, values, 'nginx-mesh')).toEqual({ carried: {}, noSetting: [] });
  });
  it('a setting 1.x has is carried; one it has not (another MeshConfigClass, an unknown field) is named', () => {
    const spec = {
      ...rendered,
      accessControlMode: 'deny',
      mtls: { ...rendered.mtls, svidTTL: '30m' },
      telemetry: { samplerRatio: 0.10000000149011612, exporters: { otlp: { host: 'otel', port: 4317 } } },
      meshConfigClassName: 'other',
      future: { knob: true },
    };
    expect(meshConfigChanges(spec, { ...values, telemetry: { samplerRatio: 0.1 } }, 'nginx-mesh')).toEqual({
      carried: {
        accessControlMode: 'deny',
        'mtls.svidTTL': '30m',
        'telemetry.exporters.otlp': { host: 'otel', port: 4317 },
      },
      noSetting: ['meshConfigClassName="other"', 'future.knob=true'],
    });
  });
});

describe('valueDifferences', () => {
  it('names each differing path; a credential by path only', () => {
    const expected = {
      mtls: { mode: 'strict' },
      registry: { password: new Secret('s3cret-a', 'registry.password') },
      telemetry: {},
    };
    expect(
      valueDifferences(expected, {
        mtls: { mode: 'strict' },
        registry: { password: new Secret('s3cret-a', 'registry.password') },
      }),
    ).toEqual([]);
    const d = valueDifferences(expected, {
      mtls: { mode: 'permissive' },
      registry: { password: 's3cret-b' },
      extra: 1,
    });
    expect(d).toEqual([
      'extra: expected nothing, found 1',
      'mtls.mode: expected "strict", found "permissive"',
      "registry.password: the credential differs from the backup's (values not shown)",
    ]);
    expect(d.join()).not.toMatch(/s3cret/);
  });
});

describe('parseRollbackJournal', () => {
  const step = (id: string, kind: string) => ({
    id,
    kind,
    title: kind,
    destructive: true,
    writes: true,
    commands: [],
    params: {},
  });
  const plan = {
    from: '2.0.0',
    to: '1.7.0',
    namespace: 'nginx-mesh',
    method: 'meshctl',
    environment: 'kubernetes',
    warnings: [],
    refusals: [],
    hops: [
      {
        index: 1,
        from: '2.0.0',
        to: '1.7.0',
        strategy: 'manual',
        reason: 'r',
        method: 'meshctl',
        steps: [step('hop1.snapshot', 'snapshot'), step('hop1.remove', 'remove')],
      },
    ],
    rollback: {
      source: '/run',
      upgradeRunId: 'u1',
      hop: 1,
      allHops: false,
      path: 'meshctl-redeploy',
      losses: [],
      forced: false,
    },
  };
  const options = {
    from: '/run',
    allHops: false,
    force: false,
    meshctlBinaries: {},
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    timeout: '5m',
  };
  const none = { count: 0, sample: [] };
  const live = {
    version: '2.0.0',
    valuesMatchBackup: true,
    restorableRevisions: [],
    crdChanges: [],
    incompatible: [],
    changed: none,
    deleted: none,
    created: none,
    meshConfig: { carried: {}, noSetting: [] },
  };
  const first = {
    type: 'rollback',
    schema: 2,
    runId: 'r1',
    at: 't',
    toolVersion: '0',
    upgradeRunId: 'u1',
    options,
    live,
    cluster: { server: 'https://k', uid: 'u' },
    plan,
    failedStep: 'hop1.deploy',
    binaries: { meshctl: {}, chart: { ref: 'nginx-stable/nginx-service-mesh' } },
  };
  const lines = (...r: unknown[]) => r.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n');
  it('reads what is done, the newest run id and the failed step; a torn last line is ignored', () => {
    const j = parseRollbackJournal(
      lines(
        first,
        { type: 'step', runId: 'r1', at: 't', step: 'hop1.snapshot', status: 'done', data: { objects: 3 } },
        { type: 'resume', runId: 'r2', at: 't', previousRunId: 'r1' },
        '{"type":"st',
      ),
      'j',
    );
    expect([...j.done]).toEqual(['hop1.snapshot']);
    expect(j.data.get('hop1.snapshot')).toEqual({ objects: 3 });
    expect(j.runId).toBe('r2');
    expect(j.failedStep).toBe('hop1.deploy');
    expect(j.finished).toBe(false);
  });
  it('refuses what does not fit: another first record, a step the plan lacks, another schema', () => {
    expect(() => parseRollbackJournal(lines({ type: 'run' }), 'j')).toThrow(
      /the first record must be the rollback record/,
    );
    expect(() =>
      parseRollbackJournal(
        lines(first, { type: 'step', runId: 'r1', at: 't', step: 'hop1.rm -rf', status: 'done' }),
        'j',
      ),
    ).toThrow(/not a step of the journaled plan/);
    expect(() => parseRollbackJournal(lines({ ...first, schema: 9 }), 'j')).toThrow(/schema 9/);
    expect(() => parseRollbackJournal(lines({ ...first, binaries: undefined }), 'j')).toThrow(
      /line 1 .*\/binaries is required/,
    );
    expect(() =>
      parseRollbackJournal(
        lines({ ...first, binaries: { meshctl: { '1.6.0': { path: '/x' } }, chart: { ref: 'r' } } }),
        'j',
      ),
    ).toThrow(/\/binaries\/meshctl\/1.6.0\/sha256 is required/);
    expect(() =>
      parseRollbackJournal(lines(first, 'not json', { type: 'finished', runId: 'r1', at: 't', converged: true }), 'j'),
    ).toThrow(/line 2/);
  });
});

describe('rollbackCalledFor: which failed steps --on-failure rollback rolls back', () => {
  it('every step that changes the mesh, not the backup or the namespace labels', () => {
    expect(
      ['hop1.remove', 'hop1.deploy', 'hop2.wait-sentinel', 'hop1.restore', 'hop1.upgrade', 'hop1.apply-crds'].every(
        rollbackCalledFor,
      ),
    ).toBe(true);
    expect(['hop1.backup', 'hop2.label-namespaces', 'preflight', 'run'].some(rollbackCalledFor)).toBe(false);
  });
});

describe('restorableRevisions', () => {
  const backup = {
    release: { revision: 1, chartVersion: '0.6.0' },
    values: { registry: { password: new Secret('pw-12345', 'registry.password') } },
  };
  it('the recorded revision when Helm still holds it as backed up; not a reused number after an uninstall and install', () => {
    const as = (revision: number, version: string, password: string) => ({
      revision,
      chart: { version },
      config: { registry: { password } },
    });
    expect(restorableRevisions([as(1, '0.6.0', 'pw-12345'), as(2, '0.7.0', 'pw-12345')], backup)).toEqual([1]);
    expect(restorableRevisions([as(1, '0.7.0', 'pw-12345')], backup)).toEqual([]);
    expect(restorableRevisions([as(1, '0.6.0', 'other-pw')], backup)).toEqual([]);
    expect(restorableRevisions([as(1, '0.6.0', 'pw-12345')], { ...backup, release: null })).toEqual([]);
  });
});
