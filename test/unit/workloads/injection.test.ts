import { describe, expect, it } from 'vitest';
import { imageTag, isInjected, isLive, sidecarVersion } from '../../../src/workloads/injection.ts';
import { pod } from './fixtures.ts';

describe('imageTag', () => {
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

describe('pods', () => {
  it('reads the sidecar version from the nginx-mesh-sidecar container, not the first one', () => {
    expect(sidecarVersion(pod('a', { version: '1.7.0' }))).toBe('1.7.0');
  });
  it('reports unknown when the sidecar container is missing', () => {
    const p = pod('a');
    p.spec!.containers = [{ name: 'app', image: 'nginx:1.27' }];
    expect(sidecarVersion(p)).toBe('unknown');
  });
  it('is injected only with the injector annotation', () => {
    expect(isInjected(pod('a'))).toBe(true);
    expect(isInjected(pod('a', { injected: false }))).toBe(false);
  });
  it.each([
    ['Running', false, true],
    ['Pending', false, true],
    ['Succeeded', false, false],
    ['Failed', false, false],
    ['Running', true, false],
  ])('phase %s, deleting %s -> live %s', (phase, deleting, live) => {
    expect(isLive(pod('a', { phase, deleting }))).toBe(live);
  });
});
