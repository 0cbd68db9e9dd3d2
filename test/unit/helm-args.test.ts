import { describe, expect, it } from 'vitest';
import {
  helmInstall,
  helmShowChart,
  helmShowCrds,
  helmUninstall,
  helmUpgrade,
  helmVersion,
  parseHelmMajor,
  parseHelmVersion,
  type HelmTarget,
} from '../../src/controlplane/helm.ts';

const h3: HelmTarget = { bin: 'helm', major: 3, namespace: 'nginx-mesh', timeout: '10m' };
const h4: HelmTarget = { ...h3, major: 4 };
const chart = { ref: 'nginx-stable/nginx-service-mesh', version: '0.7.0' };

describe('helm argument builders (Helm 3 vs Helm 4)', () => {
  it('parses `helm version --short`', () => {
    expect(parseHelmMajor('v3.17.3+ge4da497')).toBe(3);
    expect(parseHelmMajor('v4.1.4+g05fa379\n')).toBe(4);
    expect(parseHelmMajor('v2.17.0+g')).toBeUndefined();
    expect(parseHelmMajor('command not found')).toBeUndefined();
    expect(parseHelmVersion('v3.13.2+gabc')).toBe('3.13.2');
    expect(helmVersion('/usr/bin/helm')).toMatchObject({ args: ['version', '--short'], writes: false });
  });
  it('upgrade, Helm 3: --wait and --atomic', () => {
    expect(helmUpgrade(h3, { release: 'nsm', chart, atomic: true })).toEqual({
      bin: 'helm',
      writes: true,
      args: [
        'upgrade',
        'nsm',
        'nginx-stable/nginx-service-mesh',
        '--version',
        '0.7.0',
        '-n',
        'nginx-mesh',
        '--reset-then-reuse-values',
        '--wait',
        '--timeout',
        '10m',
        '--atomic',
      ],
    });
  });
  it('upgrade, Helm 4: --wait=watcher and --rollback-on-failure', () => {
    expect(helmUpgrade(h4, { release: 'nsm', chart, atomic: true }).args).toEqual([
      'upgrade',
      'nsm',
      'nginx-stable/nginx-service-mesh',
      '--version',
      '0.7.0',
      '-n',
      'nginx-mesh',
      '--reset-then-reuse-values',
      '--wait=watcher',
      '--timeout',
      '10m',
      '--rollback-on-failure',
    ]);
  });
  it('upgrade: --reuse-values on request, --set overrides, local chart without --version, cluster flags', () => {
    expect(
      helmUpgrade(
        { ...h3, kubeconfig: '/k', context: 'c1' },
        { release: 'nsm', chart: { ref: './charts/1.7.0' }, values: 'reuse', set: { 'registry.imageTag': '1.7.0' } },
      ).args,
    ).toEqual([
      'upgrade',
      'nsm',
      './charts/1.7.0',
      '-n',
      'nginx-mesh',
      '--reuse-values',
      '--set',
      'registry.imageTag=1.7.0',
      '--wait',
      '--timeout',
      '10m',
      '--kubeconfig',
      '/k',
      '--kube-context',
      'c1',
    ]);
  });
  it('uninstall waits for the deletions', () => {
    expect(helmUninstall(h3, 'nsm').args).toEqual([
      'uninstall',
      'nsm',
      '-n',
      'nginx-mesh',
      '--wait',
      '--timeout',
      '10m',
    ]);
    expect(helmUninstall(h4, 'nsm').args).toEqual([
      'uninstall',
      'nsm',
      '-n',
      'nginx-mesh',
      '--wait=watcher',
      '--timeout',
      '10m',
    ]);
  });
  it('install passes carried-over values as a file', () => {
    expect(helmInstall(h4, { release: 'nsm', chart, valuesFile: '/b/hop1/values-1.7.0.yaml' }).args).toEqual([
      'install',
      'nsm',
      'nginx-stable/nginx-service-mesh',
      '--version',
      '0.7.0',
      '-n',
      'nginx-mesh',
      '--create-namespace',
      '-f',
      '/b/hop1/values-1.7.0.yaml',
      '--wait=watcher',
      '--timeout',
      '10m',
    ]);
  });
  it('show chart (preflight) is read-only', () => {
    expect(helmShowChart(h3, { ref: '/charts/1.7.0' })).toMatchObject({
      bin: 'helm',
      args: ['show', 'chart', '/charts/1.7.0'],
      writes: false,
    });
  });
  it('show crds is read-only', () => {
    expect(helmShowCrds(h3, chart)).toEqual({
      bin: 'helm',
      args: ['show', 'crds', 'nginx-stable/nginx-service-mesh', '--version', '0.7.0'],
      writes: false,
    });
  });
});
