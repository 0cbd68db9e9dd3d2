import { describe, expect, it } from 'vitest';
import { fleetSkewOutcome, formatFleetSkewText, type ClusterSkew } from '../../../src/workloads/fleet-skew.ts';
import type { InjectedWorkload } from '../../../src/workloads/owners.ts';
import { buildSkewReport } from '../../../src/workloads/skew.ts';

const w = (name: string, versions: string[]): InjectedWorkload => ({
  namespace: 'shop',
  kind: 'Deployment',
  name,
  pods: versions.map((version, i) => ({ name: `${name}-${i}`, version, optedIn: true })),
});
const report = (version: string | null, workloads: InjectedWorkload[], ready = 1) =>
  buildSkewReport({
    meshNamespace: 'nginx-mesh',
    workloads,
    namespaceLabels: new Map(),
    controlPlane: {
      version,
      components: version ? [{ name: 'nginx-mesh-controller', kind: 'Deployment', ready, desired: 1 }] : [],
    },
  });

describe('status --contexts: one table across clusters', () => {
  const staging: ClusterSkew = { context: 'staging', report: report('2.0.0', [w('web', ['2.0.0', '2.0.0'])]) };
  const prod: ClusterSkew = {
    context: 'prod-eu',
    report: report('1.7.0', [w('web', ['1.7.0']), w('api', ['1.6.0'])], 0),
  };

  it('one row per cluster: control plane and its health, sidecars by version, converged or how many behind', () => {
    expect(
      formatFleetSkewText([
        staging,
        prod,
        { context: 'prod-us', report: report(null, []) },
        { context: 'lab', error: 'connect ECONNREFUSED 10.0.0.1:443' },
      ]),
    ).toBe(
      [
        'CONTEXT  CONTROL PLANE       SIDECARS         CONVERGED',
        'staging  2.0.0 (ready)       2.0.0=2          yes',
        'prod-eu  1.7.0 (NOT READY)   1.6.0=1 1.7.0=1  no: 1 workload behind',
        'prod-us  none in nginx-mesh  -                no: no control plane',
        'lab      ?                   ?                unknown: connect ECONNREFUSED 10.0.0.1:443',
        '',
        'Control planes on 2 versions: 2.0.0 (staging), 1.7.0 (prod-eu).',
        '',
        'Some clusters could not be read.',
        '',
      ].join('\n'),
    );
  });

  it('exit codes: any unreadable cluster (1) before any not converged (4); all converged (0)', () => {
    expect(fleetSkewOutcome([staging])).toBe('converged');
    expect(fleetSkewOutcome([staging, prod])).toBe('not-converged');
    expect(fleetSkewOutcome([staging, prod, { context: 'lab', error: 'x' }])).toBe('unreadable');
  });
});
