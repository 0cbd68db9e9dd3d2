/**
 * Issue 25: every file the tool reads back has one schema, checked by one validator (src/schema/validate.ts).
 * For each format, a bad field deep inside a valid document is refused with exit 2, named by its JSON
 * pointer with what is there and what belongs there, and the reader's fix under it.
 */
import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/errors.ts';
import { checkShape, shapeProblem, type JSONSchemaType } from '../../../src/schema/validate.ts';
import { journalSchemaVersion, parseJournal } from '../../../src/engine/journal.ts';
import type { ClusterIdentity } from '../../../src/engine/journal-schema.ts';
import { parseRollbackJournal, rollbackSchemaVersion } from '../../../src/rollback/journal.ts';
import { checkFleetState, newFleetState } from '../../../src/fleet/state.ts';
import { fleetSpec, parseFleetFile } from '../../../src/fleet/fleet-file.ts';
import { parseManifest, sha256 } from '../../../src/backup/manifest.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

/** The UsageError `f` throws. */
function refusal(f: () => unknown): UsageError {
  try {
    f();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('nothing was refused');
}

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const lines = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe("the upgrade's journal", () => {
  const install: Install = {
    namespace: 'nginx-mesh',
    version: '1.7.0',
    method: 'meshctl',
    release: 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.7.0',
    environment: 'kubernetes',
    values: { mtls: { mode: 'strict' } },
    controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.7.0' },
    warnings: [],
  };
  const inputs: PlanOptions = {
    to: '2.0.0',
    strategy: 'manual',
    meshctlBinaries: { '1.7.0': '/bin/m17', '2.0.0': '/bin/m20' },
    helm: undefined,
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/runs/a',
    timeout: '5m',
  };
  const binaries = {
    meshctl: {
      '1.7.0': { path: '/bin/m17', sha256: 'a'.repeat(64) },
      '2.0.0': { path: '/bin/m20', sha256: 'b'.repeat(64) },
    },
    chart: { ref: 'nginx-stable/nginx-service-mesh' },
  };
  const run = () =>
    copy({
      type: 'run',
      schema: journalSchemaVersion,
      runId: 'r1',
      at: 't',
      toolVersion: '0.1.0',
      install,
      inputs,
      cluster: { server: 'https://k', uid: 'u' },
      plan: buildPlan(install, inputs),
      binaries,
    });
  const step = { type: 'step', runId: 'r1', at: 't', step: 'hop1.backup', status: 'done', data: { objects: 3 } };

  it('reads a journal the tool writes', () => {
    const j = parseJournal(lines(run(), step, { type: 'finished', runId: 'r1', at: 't', converged: true }), 'j');
    expect([...j.done]).toEqual(['hop1.backup']);
    expect(j.finished).toBe(true);
  });

  it.each([
    [
      'a chart source of no kind',
      (r: any) => {
        r.inputs.chart = { kind: 'git', ref: 'x' };
      },
      /^j: line 1 does not fit the journal's schema: \/inputs\/chart\/kind is "git", not one of repo, versioned-dir, path$/,
    ],
    [
      'a step id that is not one',
      (r: any) => {
        r.plan.hops[0].steps[1].id = 'hop1/../../x';
      },
      /: \/plan\/hops\/0\/steps\/1\/id is "hop1\/\.\.\/\.\.\/x", not a step id \(hop<N>\.<kind>\)$/,
    ],
    [
      'a leftover with a command of numbers',
      (r: any) => {
        r.inputs.leftovers = [
          { kind: 'webhook', what: 'w', name: 'n', breaks: 'b', clear: { bin: 'kubectl', args: [1] } },
        ];
      },
      /: \/inputs\/leftovers\/0\/clear\/args\/0 is a number, not a string$/,
    ],
    [
      'helm recorded as null',
      (r: any) => {
        r.binaries.helm = null;
      },
      /: \/binaries\/helm is null, not an object$/,
    ],
  ])('refuses %s deep in the run record, by its path', (_what, change, message) => {
    const r = run();
    change(r);
    const err = refusal(() => parseJournal(lines(r, step), 'j'));
    expect(err.message).toMatch(message);
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.hint).toMatch(/--resume will not trust it and nothing was run/);
  });

  it('refuses a step record with a field of the wrong type, on its line', () => {
    expect(refusal(() => parseJournal(lines(run(), { ...step, data: [1] }), 'j')).message).toBe(
      "j: line 2 does not fit the journal's schema: /data is a list of 1, not an object",
    );
  });
});

describe("the rollback's journal: the same parser and schema, its own first record", () => {
  const none = { count: 0, sample: [] };
  const first = () =>
    copy({
      type: 'rollback',
      schema: rollbackSchemaVersion,
      runId: 'rb1',
      at: 't',
      toolVersion: '0.1.0',
      upgradeRunId: 'r1',
      cluster: { server: 'https://k', uid: 'u' },
      options: {
        from: '/runs/a',
        allHops: false,
        force: false,
        meshctlBinaries: {},
        chart: { kind: 'repo', ref: 'x' },
        timeout: '5m',
      },
      live: {
        version: '2.0.0',
        valuesMatchBackup: true,
        restorableRevisions: [],
        crdChanges: [],
        incompatible: [],
        changed: none,
        deleted: none,
        created: none,
        meshConfig: { carried: {}, noSetting: [] },
      },
      plan: {
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
            steps: [{ id: 'hop1.snapshot', kind: 'snapshot', title: 's', params: {} }],
          },
        ],
        rollback: {
          source: '/runs/a',
          upgradeRunId: 'r1',
          hop: 1,
          allHops: false,
          path: 'meshctl-redeploy',
          losses: [],
          forced: false,
        },
      },
      binaries: { meshctl: {}, chart: { ref: 'x' } },
    });

  it('reads a valid one', () => expect(parseRollbackJournal(lines(first()), 'j').upgradeRunId).toBe('r1'));

  it.each([
    [
      'a count that is text',
      (r: any) => {
        r.live.changed.count = '3';
      },
      /^j: line 1 does not fit the rollback journal's schema: \/live\/changed\/count is a string, not an integer$/,
    ],
    [
      'a path of no rollback',
      (r: any) => {
        r.plan.rollback.path = 'rm-rf';
      },
      /: \/plan\/rollback\/path is "rm-rf", not one of meshctl-redeploy, helm-rollback, helm-reinstall, already-back$/,
    ],
    [
      'a cluster without its uid',
      (r: any) => {
        delete r.cluster.uid;
      },
      /: \/cluster\/uid is required$/,
    ],
  ])('refuses %s, by its path', (_what, change, message) => {
    const r = first();
    change(r);
    const err = refusal(() => parseRollbackJournal(lines(r), 'j'));
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/Check the cluster/);
  });

  it("refuses an upgrade's record type in a rollback journal as the first, and a second start record", () => {
    expect(refusal(() => parseRollbackJournal(lines(first(), first()), 'j')).message).toMatch(
      /line 2 .*a second rollback record/,
    );
  });
});

describe('fleet.json', () => {
  const spec = fleetSpec(
    { contexts: ['nsm-local', 'prod/eu'] },
    { meshNamespace: 'nginx-mesh', method: 'auto', strategy: 'auto', meshctl: ['/opt/m'] },
    { to: '2.0.0' },
  );
  const state = () =>
    copy(
      newFleetState(
        spec,
        { timeout: '10m', labelNamespaces: false, onFailure: 'stop', skipRefused: false, soakMs: 0 },
        [['nsm-local'], ['prod/eu']],
        't',
      ),
    ) as any;

  it.each([
    [
      'a status of no kind',
      (s: any) => {
        s.clusters['nsm-local'].status = 'half';
      },
      /^fleet.json does not fit the fleet record's schema: \/clusters\/nsm-local\/status is "half", not one of pending, running, done, failed, interrupted, up-to-date, skipped$/,
    ],
    [
      'a context with a slash, escaped in the pointer',
      (s: any) => {
        s.clusters['prod/eu'].at = 7;
      },
      /: \/clusters\/prod~1eu\/at is a number, not a string$/,
    ],
    [
      'a pid of null',
      (s: any) => {
        s.clusters['nsm-local'].pid = null;
      },
      /: \/clusters\/nsm-local\/pid is null, not a process id$/,
    ],
    [
      'an onFailure of no kind',
      (s: any) => {
        s.settings.onFailure = 'retry';
      },
      /: \/settings\/onFailure is "retry", not one of stop, rollback$/,
    ],
    [
      'a cluster setting of the wrong type',
      (s: any) => {
        s.spec.clusters[1].strategy = 3;
      },
      /: \/spec\/clusters\/1\/strategy is a number, not a string$/,
    ],
  ])('refuses %s, by its path', (_what, change, message) => {
    const s = state();
    change(s);
    const err = refusal(() => checkFleetState(s, 'fleet.json'));
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/the record was changed or damaged/i);
  });
});

describe("a backup's manifest.json", () => {
  const manifest = () => ({
    formatVersion: 1,
    toolVersion: '0.1.0',
    context: 'c',
    server: 'https://s',
    meshVersion: null,
    createdAt: 't',
    namespace: 'shop',
    files: [{ path: 'crds.yaml', kind: 'CustomResourceDefinition', count: 7, sha256: sha256('y') }],
    absent: [{ kind: 'MeshConfig', reason: 'not installed' }],
    discoveryFailures: [{ groupVersion: 'specs.smi-spec.io/v1alpha3', error: 'timeout' }],
  });

  it('reads a valid one (meshVersion null: not known)', () =>
    expect(parseManifest(JSON.stringify(manifest())).meshVersion).toBeNull());

  it.each([
    [
      'an absent kind without its reason',
      (m: any) => {
        delete m.absent[0].reason;
      },
      /^manifest.json: \/absent\/0\/reason is required$/,
    ],
    [
      'a discovery failure whose error is a number',
      (m: any) => {
        m.discoveryFailures[0].error = 500;
      },
      /^manifest.json: \/discoveryFailures\/0\/error is a number, not a string$/,
    ],
    [
      'a namespace that is a number',
      (m: any) => {
        m.namespace = 3;
      },
      /^manifest.json: \/namespace is 3, not a string or null$/,
    ],
  ])('refuses %s, by its path', (_what, change, message) => {
    const m = manifest();
    change(m);
    const err = refusal(() => parseManifest(JSON.stringify(m)));
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/restore from an intact backup/);
  });
});

describe('a fleet file', () => {
  it.each([
    [
      'a strategy of no kind in the second cluster',
      'clusters:\n  - context: a\n  - context: b\n    strategy: fast\n',
      /^f.yaml: \/clusters\/1\/strategy is "fast", not one of auto, in-place, manual$/,
    ],
    [
      'an empty path in a list of binaries',
      'clusters:\n  - context: a\n    meshctl: [/bin/m, ""]\n',
      /^f.yaml: \/clusters\/0\/meshctl is a list of 2, not a path or a list of paths$/,
    ],
    [
      'a canary that is a list',
      'canary: [a]\nclusters: [{context: a}]\n',
      /^f.yaml: \/canary is a list of 1, not a non-empty string$/,
    ],
  ])('refuses %s, by its path', (_what, text, message) => {
    const err = refusal(() => parseFleetFile(text, 'f.yaml'));
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/The fleet file/);
  });

  it('takes a key without a value as absent, as before', () => {
    expect(parseFleetFile('canary:\nclusters:\n  - context: a\n    kubeconfig:\n', '/f.yaml')).toMatchObject({
      canary: undefined,
      clusters: [{ context: 'a', kubeconfig: undefined }],
    });
  });
});

describe('the validator', () => {
  const cluster: JSONSchemaType<{ server: string; note?: string }> = {
    type: 'object',
    properties: { server: { type: 'string' }, note: { type: 'string', nullable: true } },
    required: ['server'],
  };

  it('refuses null for an optional property: absent is absent, never null', () => {
    expect(shapeProblem(cluster, { server: 's' })).toBeUndefined();
    expect(shapeProblem(cluster, { server: 's', note: null })).toBe('/note is null, not a string');
  });

  it('names the top level when the document is not an object, and the source and fix in the error', () => {
    const err = refusal(() => checkShape(cluster, 'text', { where: 'x.json', fix: 'Do this.' }));
    expect(err.message).toBe('x.json: the top level is a string, not an object');
    expect(err.hint).toBe('Do this.');
  });

  it('a schema that lacks a property of its type does not compile, so the two cannot drift', () => {
    // @ts-expect-error uid is a property of ClusterIdentity the schema does not name
    const lacking: JSONSchemaType<ClusterIdentity> = {
      type: 'object',
      properties: { server: { type: 'string' } },
      required: ['server'],
    };
    // @ts-expect-error uid is a string, not a number
    const mistyped: JSONSchemaType<ClusterIdentity> = {
      type: 'object',
      properties: { server: { type: 'string' }, uid: { type: 'number' } },
      required: ['server', 'uid'],
    };
    expect([lacking, mistyped]).toHaveLength(2);
  });
});
