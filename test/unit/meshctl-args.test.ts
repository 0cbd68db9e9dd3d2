import { describe, expect, it } from 'vitest';
import {
  meshctlDeploy,
  meshctlRemove,
  meshctlSupports,
  meshctlUpgrade,
  meshctlVersion,
  parseMeshctlVersion,
} from '../../src/controlplane/meshctl.ts';

const t = { bin: '/opt/nginx-meshctl-1.7.0', namespace: 'nginx-mesh', timeout: '10m' };

describe('nginx-meshctl argument builders', () => {
  it('upgrade: global flags first, then upgrade --yes', () => {
    expect(meshctlUpgrade(t, { version: '1.7.0' })).toEqual({
      bin: t.bin,
      args: ['-n', 'nginx-mesh', '-t', '10m', 'upgrade', '--yes'],
      writes: true,
      ignored: [],
    });
  });
  it('upgrade: --registry-server/--image-tag only where the target supports them (2.0+)', () => {
    expect(meshctlUpgrade(t, { version: '1.7.0', registryServer: 'reg.local/nsm', imageTag: '1.7.0' })).toMatchObject({
      args: ['-n', 'nginx-mesh', '-t', '10m', 'upgrade', '--yes'],
      ignored: ['--registry-server', '--image-tag'],
    });
    expect(meshctlUpgrade(t, { version: '2.0.0', registryServer: 'reg.local/nsm', imageTag: '2.0.0' }).args).toEqual([
      '-n',
      'nginx-mesh',
      '-t',
      '10m',
      'upgrade',
      '--yes',
      '--registry-server',
      'reg.local/nsm',
      '--image-tag',
      '2.0.0',
    ]);
    expect(meshctlSupports('1.6.0', 'upgrade', '--image-tag')).toBe(false);
    expect(meshctlSupports('1.6.0', 'remove', '--yes')).toBe(true);
  });
  it('passes the kubeconfig with -k when given', () => {
    expect(meshctlRemove({ ...t, kubeconfig: '/k/config' }).args).toEqual([
      '-k',
      '/k/config',
      '-n',
      'nginx-mesh',
      '-t',
      '10m',
      'remove',
      '--yes',
    ]);
  });
  it('remove and deploy', () => {
    expect(meshctlRemove(t)).toEqual({
      bin: t.bin,
      args: ['-n', 'nginx-mesh', '-t', '10m', 'remove', '--yes'],
      writes: true,
    });
    expect(meshctlDeploy(t, ['--mtls-mode', 'strict', '--enable-udp'])).toEqual({
      bin: t.bin,
      args: ['-n', 'nginx-mesh', '-t', '10m', 'deploy', '--mtls-mode', 'strict', '--enable-udp'],
      writes: true,
    });
  });
  it('version is read-only', () => {
    expect(meshctlVersion('nginx-meshctl')).toMatchObject({ bin: 'nginx-meshctl', args: ['version'], writes: false });
  });
  it.each([
    ['nginx-meshctl - v1.7.0\nnginx-mesh-api - v1.7.0\n', '1.7.0'],
    ['nginx-meshctl - v2.0.0', '2.0.0'],
    ['nginx-meshctl - 1.6.0\n', '1.6.0'],
    ['error: cannot connect\nnginx-meshctl - v1.7.0', undefined],
    ['', undefined],
  ])('parses the version from the first line of %j', (out, want) => expect(parseMeshctlVersion(out)).toBe(want));
});
