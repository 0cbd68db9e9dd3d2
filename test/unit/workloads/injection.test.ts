import { describe, expect, it } from 'vitest';
import { isInjected, isLive, sidecarVersion } from '../../../src/workloads/injection.ts';
import { pod } from './fixtures.ts';

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
