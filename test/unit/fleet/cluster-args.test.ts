import { describe, expect, it } from 'vitest';
import { clusterRunArgs, type ClusterRunSettings } from '../../../src/fleet/cluster-args.ts';
import type { FleetCluster } from '../../../src/fleet/types.ts';

const meshctl: FleetCluster = {
  context: 'prod-eu',
  dir: 'prod-eu',
  meshNamespace: 'nginx-mesh',
  method: 'auto',
  strategy: 'auto',
  meshctl: ['/bin/m2'],
  meshctlCurrent: '/bin/m1',
};
const helm: FleetCluster = {
  context: 'prod-us',
  dir: 'prod-us',
  kubeconfig: '/k/us',
  meshNamespace: 'mesh',
  method: 'helm',
  strategy: 'manual',
  meshctl: [],
  helm: '/bin/helm',
  release: 'nsm',
  chart: 'repo/nsm',
};
const s: ClusterRunSettings = {
  to: '2.0.0',
  fleetDir: '/f',
  timeout: '10m',
  labelNamespaces: false,
  onFailure: 'stop',
  verbose: 0,
};

describe("a cluster's run: the single-cluster command line", () => {
  it('fresh: its own backup directory in the fleet directory, its context and binaries, --yes and JSON events', () => {
    expect(clusterRunArgs(meshctl, s, false)).toEqual([
      '--backup-dir',
      '/f/prod-eu',
      '--to',
      '2.0.0',
      '--context',
      'prod-eu',
      '--mesh-namespace',
      'nginx-mesh',
      '--meshctl',
      '/bin/m2',
      '--meshctl-current',
      '/bin/m1',
      '--timeout',
      '10m',
      '--yes',
      '-o',
      'json',
    ]);
  });

  it('the helm settings, --label-namespaces and -v are passed on', () => {
    expect(clusterRunArgs(helm, { ...s, labelNamespaces: true, verbose: 2 }, false)).toEqual([
      '--backup-dir',
      '/f/prod-us',
      '--to',
      '2.0.0',
      '--context',
      'prod-us',
      '--kubeconfig',
      '/k/us',
      '--mesh-namespace',
      'mesh',
      '--method',
      'helm',
      '--strategy',
      'manual',
      '--helm',
      '/bin/helm',
      '--release',
      'nsm',
      '--chart',
      'repo/nsm',
      '--label-namespaces',
      '--timeout',
      '10m',
      '--yes',
      '-o',
      'json',
      '-v',
    ]);
  });

  it('resume: --resume of its own directory, with the same settings for its checks (no --release: the journal has it)', () => {
    const args = clusterRunArgs(helm, s, true);
    expect(args.slice(0, 2)).toEqual(['--resume', '/f/prod-us']);
    expect(args).not.toContain('--backup-dir');
    expect(args).not.toContain('--release');
    expect(args).toEqual(
      expect.arrayContaining(['--to', '2.0.0', '--context', 'prod-us', '--chart', 'repo/nsm', '--yes']),
    );
  });

  it('--on-failure is passed on only when it is not the default stop', () => {
    expect(clusterRunArgs(meshctl, s, false)).not.toContain('--on-failure');
    const args = clusterRunArgs(meshctl, { ...s, onFailure: 'rollback' }, false);
    expect(args.slice(args.indexOf('--on-failure'), args.indexOf('--on-failure') + 2)).toEqual([
      '--on-failure',
      'rollback',
    ]);
  });
});
