import { describe, expect, it } from 'vitest';
import { candidateNames, matchMeshctlBinaries } from '../../src/upgrade/plan-inputs.ts';
import { unlabelledInjectedNamespaces } from '../../src/upgrade/plan-inputs.ts';
import { parseDeployFlags } from '../../src/upgrade/plan-inputs.ts';
import { describePermission, requiredPermissions } from '../../src/preflight/permissions.ts';
import { unsettled } from '../../src/preflight/preflight.ts';
import { buildPlan } from '../../src/upgrade/plan.ts';
import { formatPlanText } from '../../src/cli/plan-format.ts';
import type { Install, PlanOptions } from '../../src/engine/types.ts';

describe('matchMeshctlBinaries', () => {
  it('looks for nginx-meshctl-<v> then <v>/nginx-meshctl in a directory', () => {
    expect(candidateNames('/bins', '1.7.0')).toEqual(['/bins/nginx-meshctl-1.7.0', '/bins/1.7.0/nginx-meshctl']);
  });
  it('files go to the version they report; unreported ones to the missing hop targets in order', () => {
    const m = matchMeshctlBinaries(
      [
        { kind: 'file', path: '/a', version: undefined },
        { kind: 'file', path: '/b', version: '2.0.0' },
        { kind: 'file', path: '/c', version: undefined },
      ],
      { kind: 'file', path: '/old', version: '1.6.0' },
      '1.6.0',
      ['1.7.0', '2.0.0'],
    );
    expect(m).toEqual({ '1.6.0': '/old', '2.0.0': '/b', '1.7.0': '/a' });
  });
  it('directories fill what they hold; explicit files win', () => {
    const m = matchMeshctlBinaries(
      [
        { kind: 'dir', path: '/d', found: { '1.6.0': '/d/nginx-meshctl-1.6.0', '1.7.0': '/d/1.7.0/nginx-meshctl' } },
        { kind: 'file', path: '/x', version: '1.7.0' },
      ],
      undefined,
      '1.6.0',
      ['1.7.0'],
    );
    expect(m).toEqual({ '1.7.0': '/x', '1.6.0': '/d/nginx-meshctl-1.6.0' });
  });
});

describe('unlabelledInjectedNamespaces (2.0 opt-in)', () => {
  const pod = (ns: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name: 'p', namespace: ns, labels: {}, ...extra },
    status: { phase: 'Running' },
  });
  it('lists namespaces with live injected pods and no opt-in label, sorted', () => {
    const labels = new Map<string, Record<string, string> | undefined>([
      ['a', undefined],
      ['b', { 'injector.nsm.nginx.com/auto-inject': 'enabled' }],
      ['c', { 'injector.nsm.nginx.com/auto-inject': 'disabled' }],
      ['d', {}],
    ]);
    const pods = [
      pod('d'),
      pod('a'),
      pod('b'),
      pod('c'),
      pod('d', { labels: { 'injector.nsm.nginx.com/auto-inject': 'enabled' } }),
      { ...pod('e'), status: { phase: 'Succeeded' } },
    ];
    expect(unlabelledInjectedNamespaces(pods, labels)).toEqual(['a', 'c', 'd']);
  });
});

describe('parseDeployFlags', () => {
  it('parses NAME=VALUE, with or without dashes', () => {
    expect(parseDeployFlags(['mtls-mode=strict', '--enable-udp=true', 'telemetry-exporters=type=otlp,host=h'])).toEqual(
      { 'mtls-mode': 'strict', 'enable-udp': 'true', 'telemetry-exporters': 'type=otlp,host=h' },
    );
  });
  it('refuses a pair without a name or =', () => {
    expect(() => parseDeployFlags(['strict'])).toThrow(/not NAME=VALUE/);
  });
});

const install: Install = {
  namespace: 'nginx-mesh',
  version: '1.6.0',
  method: 'meshctl',
  release: 'nginx-service-mesh',
  releaseRevision: 1,
  releaseStatus: 'deployed',
  releaseStuck: false,
  chartVersion: '0.6.0',
  environment: 'openshift',
  values: { tracing: { backend: 'zipkin' } },
  controlPlane: undefined,
  warnings: [],
};
const opts: PlanOptions = {
  to: '1.7.0',
  strategy: 'auto',
  meshctlBinaries: { '1.6.0': '/m/1.6.0', '1.7.0': '/m/1.7.0' },
  helm: undefined,
  chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
  deployFlagChanges: {},
  labelNamespaces: false,
  unlabelledInjectedNamespaces: [],
  backupDir: '/b',
  timeout: '5m',
};

describe('requiredPermissions', () => {
  it('lists each permission once, in the mesh namespace where scoped, with the steps that need it', () => {
    const perms = requiredPermissions(buildPlan(install, opts));
    const crdDelete = perms.find((p) => p.verb === 'delete' && p.resource === 'customresourcedefinitions')!;
    expect(crdDelete.steps).toEqual(['hop1.remove', 'hop1.deploy']);
    expect(describePermission(crdDelete)).toBe(
      'delete customresourcedefinitions.apiextensions.k8s.io (all namespaces / cluster-wide)',
    );
    expect(perms.find((p) => p.verb === 'watch' && p.resource === 'jobs')!.namespace).toBe('nginx-mesh');
    expect(new Set(perms.map((p) => `${p.verb} ${p.group} ${p.resource} ${p.namespace}`)).size).toBe(perms.length);
    // The run's Lease: taken, renewed and released in the default namespace.
    expect(
      perms.filter((p) => p.resource === 'leases').map((p) => `${p.verb} ${p.namespace} ${p.steps.join()}`),
    ).toEqual(['create default lease', 'get default lease', 'update default lease', 'delete default lease']);
  });
});

describe('unsettled (control-plane preflight)', () => {
  it('finds Deployments mid-rollout and pods not ready; finished pods are fine', () => {
    const d = (name: string, spec: number, status: Record<string, number>, generation = 1) => ({
      metadata: { name, generation },
      spec: { replicas: spec },
      status: { observedGeneration: 1, replicas: spec, ...status },
    });
    const r = unsettled(
      [
        d('ok', 1, { updatedReplicas: 1, availableReplicas: 1 }),
        d('rolling', 2, { updatedReplicas: 1, availableReplicas: 2 }),
        d('new-gen', 1, { updatedReplicas: 1, availableReplicas: 1 }, 2),
      ],
      [
        { metadata: { name: 'ready' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
        { metadata: { name: 'crash' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } },
        { metadata: { name: 'job' }, status: { phase: 'Succeeded' } },
      ],
    );
    expect(r).toEqual({ rolling: ['rolling', 'new-gen'], notReady: ['crash (Running)'] });
  });
});

describe('formatPlanText', () => {
  it('shows hops, strategy with reason, steps with commands, warnings', () => {
    const text = formatPlanText(buildPlan(install, opts));
    expect(text).toContain('Upgrade plan: NGINX Service Mesh 1.6.0 -> 1.7.0');
    expect(text).toMatch(/Hop 1: 1\.6\.0 -> 1\.7\.0, manual \(on OpenShift the 1\.6 -> 1\.7 upgrade must be manual/);
    expect(text).toContain(`$ /m/1.6.0 -k ${opts.backupDir}/kubeconfig.private -n nginx-mesh -t 5m remove --yes`);
    expect(text).toContain(
      `$ /m/1.7.0 -k ${opts.backupDir}/kubeconfig.private -n nginx-mesh -t 5m deploy --environment openshift`,
    );
    expect(text).toContain(
      `context ${opts.context ?? '(current)'}, as read at start: every helm and nginx-meshctl command gets a private kubeconfig of exactly it (${opts.backupDir}/kubeconfig.private, 0600, removed after the run)`,
    );
    expect(text).toMatch(/hop1\.wait-sentinel\s+Wait until Job csi-driver-sentinel/);
    expect(text).toContain('tracing.backend="zipkin"');
  });
});
