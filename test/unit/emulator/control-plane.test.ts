import { describe, expect, it } from 'vitest';
import { controlPlaneOf, parseImage, versionOfTag } from '../../emulator/control-plane.ts';

describe('parseImage', () => {
  it.each([
    [
      'docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0',
      { registry: 'docker-registry.nginx.com/nsm', name: 'nginx-mesh-api', tag: '1.6.0' },
    ],
    [
      'localhost:5000/nginx-mesh-controller:v2.0.0',
      { registry: 'localhost:5000', name: 'nginx-mesh-controller', tag: 'v2.0.0' },
    ],
    ['localhost:5000/nginx-mesh-api', { registry: 'localhost:5000', name: 'nginx-mesh-api', tag: 'latest' }],
    ['nginx-mesh-api:1.7.0@sha256:abc', { registry: '', name: 'nginx-mesh-api', tag: '1.7.0' }],
  ])('%s', (image, expected) => expect(parseImage(image)).toEqual(expected));
});

describe('versionOfTag', () => {
  it('strips a leading v and reads the major version', () => {
    expect(versionOfTag('v2.0.0')).toEqual({ version: '2.0.0', major: 2 });
    expect(versionOfTag('1.6.0')).toEqual({ version: '1.6.0', major: 1 });
    expect(Number.isNaN(versionOfTag('latest').major)).toBe(true);
  });
});

describe('controlPlaneOf', () => {
  const deploy = (name: string, image: string, partOf = 'nginx-service-mesh', readyReplicas = 1) => ({
    metadata: { name, namespace: 'mesh', labels: { 'app.kubernetes.io/part-of': partOf } },
    status: { readyReplicas },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'sidecar-thing', image: 'x/other:9' },
            { name, image },
          ],
        },
      },
    },
  });
  it('reads version and registry from the version-carrying container', () => {
    expect(controlPlaneOf(deploy('nginx-mesh-api', 'reg/nsm/nginx-mesh-api:1.6.0'))).toEqual({
      namespace: 'mesh',
      deployment: 'nginx-mesh-api',
      registry: 'reg/nsm',
      version: '1.6.0',
      major: 1,
      ready: true,
    });
    expect(controlPlaneOf(deploy('nginx-mesh-controller', 'reg/nginx-mesh-controller:2.0.0'))?.major).toBe(2);
  });
  it('is not ready until a pod of it is', () => {
    expect(controlPlaneOf(deploy('nginx-mesh-api', 'reg/nginx-mesh-api:1.6.0', 'nginx-service-mesh', 0))?.ready).toBe(
      false,
    );
  });
  it('ignores other Deployments and ones not part of the mesh', () => {
    expect(controlPlaneOf(deploy('nginx-mesh-metrics', 'reg/nginx-mesh-metrics:1.6.0'))).toBeUndefined();
    expect(controlPlaneOf(deploy('nginx-mesh-api', 'reg/nginx-mesh-api:1.6.0', 'something-else'))).toBeUndefined();
  });
});
