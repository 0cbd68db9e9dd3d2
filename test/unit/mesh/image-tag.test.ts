import { describe, expect, it } from 'vitest';
import { imageTag, imageVersion } from '../../../src/mesh/detect.ts';

describe('imageTag (was workloads/injection.ts; detection had a copy, imageVersion)', () => {
  it.each([
    ['nginx/nginx-mesh-sidecar:1.7.0', '1.7.0', 'plain repository:tag'],
    ['docker-registry.nginx.com/nsm/nginx-mesh-sidecar:2.0.0', '2.0.0', 'registry host without port'],
    ['localhost:5000/nsm/nginx-mesh-sidecar:1.6.0', '1.6.0', 'registry with a port: the first colon is not the tag'],
    ['localhost:5000/nsm/nginx-mesh-sidecar', undefined, 'only a port colon: no tag'],
    ['nginx-mesh-sidecar:v1.7.0', '1.7.0', 'a leading v is dropped (NSM tags have none)'],
    ['r.io/sidecar:1.7.0@sha256:abc', '1.7.0', 'tag and digest: the digest is ignored'],
    ['r.io/sidecar@sha256:abc', undefined, 'digest only: no readable version'],
    [undefined, undefined, 'no image'],
  ])('%s -> %s (%s)', (image, tag, _reason) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('imageVersion: the tag, when it is a version', () => {
  it.each([
    ['docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0', '1.6.0'],
    ['localhost:5000/nsm/nginx-mesh-controller:v2.0', '2.0.0'],
    ['r.io/nginx-mesh-api:1.7.0@sha256:abc', '1.7.0'],
    ['r.io/nginx-mesh-api:latest', undefined],
    ['r.io/nginx-mesh-api:1.7.0-rc1', undefined],
    ['localhost:5000/nsm/nginx-mesh-api', undefined],
    ['r.io/nginx-mesh-api@sha256:abc', undefined],
  ])('%s -> %s', (image, version) => expect(imageVersion(image)).toBe(version));
});
