import { describe, expect, it } from 'vitest';
import { controlPlaneFrom } from '../../../src/workloads/control-plane.ts';
import { formatSkewText } from '../../../src/workloads/format.ts';
import type { InjectedWorkload } from '../../../src/workloads/owners.ts';
import { buildSkewReport } from '../../../src/workloads/skew.ts';

const dep = (name: string, image: string, ready: number, replicas = 1) => ({
  metadata: { name },
  spec: { replicas, template: { spec: { containers: [{ name, image }] } } },
  status: { readyReplicas: ready },
});

describe('controlPlaneFrom', () => {
  it.each([
    [[dep('nginx-mesh-api', 'r/nginx-mesh-api:1.7.0', 1)], '1.7.0', "1.x: the version is nginx-mesh-api's tag"],
    [[dep('nginx-mesh-controller', 'r/nginx-mesh-controller:2.0.0', 1)], '2.0.0', "2.0: nginx-mesh-controller's tag"],
    [[dep('nginx-mesh-metrics', 'r/metrics:1.7.0', 1)], null, 'no API/controller Deployment: no version'],
  ])('%# -> %s (%s)', (deployments, version, _reason) => {
    expect(controlPlaneFrom(deployments, [], []).version).toBe(version);
  });

  it('reports readiness of every component kind', () => {
    const cp = controlPlaneFrom(
      [dep('nginx-mesh-api', 'x:1.7.0', 0, 2)],
      [dep('spire-server', 'x:1', 1)],
      [{ metadata: { name: 'spire-agent' }, status: { numberReady: 2, desiredNumberScheduled: 3 } }],
    );
    expect(cp.components).toEqual([
      { name: 'nginx-mesh-api', kind: 'Deployment', ready: 0, desired: 2 },
      { name: 'spire-agent', kind: 'DaemonSet', ready: 2, desired: 3 },
      { name: 'spire-server', kind: 'StatefulSet', ready: 1, desired: 1 },
    ]);
  });
});

const w = (ns: string, kind: string, name: string, versions: string[], optedIn = false): InjectedWorkload => ({
  namespace: ns,
  kind,
  name,
  pods: versions.map((version, i) => ({ name: `${name}-${i}`, version, optedIn })),
});
const cp = {
  version: '1.7.0',
  components: [{ name: 'nginx-mesh-api', kind: 'Deployment' as const, ready: 1, desired: 1 }],
};

describe('buildSkewReport', () => {
  const workloads = [
    w('shop', 'Deployment', 'web', ['1.6.0', '1.7.0']),
    w('shop', 'StatefulSet', 'db', ['1.7.0']),
    w('pay', 'Pod', 'p', ['1.7.0'], true),
  ];

  it('counts pods per version, marks workloads behind the control plane, lists namespaces without opt-in', () => {
    const r = buildSkewReport({ meshNamespace: 'nginx-mesh', controlPlane: cp, workloads, namespaceLabels: new Map() });
    expect(r.targetVersion).toBe('1.7.0');
    expect(r.byVersion).toEqual({ '1.6.0': 1, '1.7.0': 3 });
    expect(r.pods).toBe(4);
    expect(r.workloads.map((x) => [x.name, x.versions, x.behind])).toEqual([
      ['web', { '1.6.0': 1, '1.7.0': 1 }, true],
      ['db', { '1.7.0': 1 }, false],
      ['p', { '1.7.0': 1 }, false],
    ]);
    expect(r.optInMissing).toEqual(['shop']); // pay's only pod carries the pod-level opt-in label
    expect(r.converged).toBe(false);
  });

  it('is converged when every pod runs the target, and a namespace label satisfies the opt-in', () => {
    const r = buildSkewReport({
      meshNamespace: 'm',
      controlPlane: cp,
      workloads: workloads.slice(1),
      namespaceLabels: new Map([['shop', { 'injector.nsm.nginx.com/auto-inject': 'enabled' }]]),
    });
    expect(r.converged).toBe(true);
    expect(r.optInMissing).toEqual([]);
  });

  it('an explicit target overrides the control plane version', () => {
    const r = buildSkewReport({
      meshNamespace: 'm',
      targetVersion: '2.0.0',
      controlPlane: cp,
      workloads,
      namespaceLabels: new Map(),
    });
    expect(r.workloads.every((x) => x.behind)).toBe(true);
  });

  it('without a control plane or target nothing is converged', () => {
    const r = buildSkewReport({
      meshNamespace: 'm',
      controlPlane: { version: null, components: [] },
      workloads: [],
      namespaceLabels: new Map(),
    });
    expect(r.converged).toBe(false);
    expect(formatSkewText(r)).toContain('no control plane found in namespace m (use --mesh-namespace)');
  });

  it('prints a compact table', () => {
    const text = formatSkewText(
      buildSkewReport({ meshNamespace: 'nginx-mesh', controlPlane: cp, workloads, namespaceLabels: new Map() }),
    );
    expect(text).toContain('Control plane (namespace nginx-mesh): version 1.7.0');
    expect(text).toMatch(/nginx-mesh-api\s+Deployment\s+1\/1\s+ok/);
    expect(text).toMatch(/shop\s+deployment\/web\s+1\.6\.0=1 1\.7\.0=1\s+behind/);
    expect(text).toContain('Not converged: 1 workload behind 1.7.0');
    expect(text).toContain('(2.0 stops injecting them): shop');
  });
});
