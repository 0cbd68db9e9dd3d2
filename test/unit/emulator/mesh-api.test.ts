import { describe, expect, it } from 'vitest';
import { componentVersions, proxiedResources, workloadOf, type PodLike } from '../../emulator/mesh-api.ts';
import { isLoopback, parseAuthority } from '../../emulator/egress-proxy.ts';

const injected = { 'injector.nsm.nginx.com/status': 'injected' };
const pod = (
  ns: string,
  name: string,
  owner?: { kind: string; name: string },
  extra: Partial<PodLike['metadata']> = {},
): PodLike => ({
  metadata: {
    namespace: ns,
    name,
    annotations: injected,
    ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
    ...extra,
  },
});

describe('mesh API answers', () => {
  it('resources: namespace -> workload type -> names, as 1.x remove prints them (<type>/<name>), only pods still carrying a sidecar', () => {
    const pods = [
      pod(
        'shop',
        'web-5d9f-abc',
        { kind: 'ReplicaSet', name: 'web-5d9f' },
        { labels: { 'pod-template-hash': '5d9f' } },
      ),
      pod(
        'shop',
        'web-5d9f-def',
        { kind: 'ReplicaSet', name: 'web-5d9f' },
        { labels: { 'pod-template-hash': '5d9f' } },
      ),
      pod('shop', 'db-0', { kind: 'StatefulSet', name: 'db' }),
      pod('cart', 'bare'),
      { metadata: { namespace: 'cart', name: 'plain' } },
      pod('cart', 'leaving', undefined, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    ];
    expect(proxiedResources(pods)).toEqual({
      shop: { deployment: ['web'], statefulset: ['db'] },
      cart: { pod: ['bare'] },
    });
    expect(proxiedResources([])).toEqual({});
    expect(workloadOf(pod('x', 'rs-pod', { kind: 'ReplicaSet', name: 'orphan-rs' }))).toEqual({
      type: 'replicaset',
      name: 'orphan-rs',
    });
  });

  it('version: each component image of the mesh with its tags', () => {
    const w = (images: string[]) => ({
      spec: { template: { spec: { containers: images.map((image) => ({ image })) } } },
    });
    expect(
      componentVersions([
        w(['docker-registry.nginx.com/nsm/nginx-mesh-api:1.7.0']),
        w(['r:5000/nsm/nginx-mesh-metrics:v1.7.0', 'r/spire-server:1.5.4']),
      ]),
    ).toEqual({ 'nginx-mesh-api': ['1.7.0'], 'nginx-mesh-metrics': ['1.7.0'], 'spire-server': ['1.5.4'] });
  });
});

describe('egress proxy addresses', () => {
  it('parses CONNECT authorities and knows loopback', () => {
    expect(parseAuthority('10.244.0.7:9443')).toEqual({ host: '10.244.0.7', port: 9443 });
    expect(parseAuthority('[::1]:10250')).toEqual({ host: '::1', port: 10250 });
    expect(parseAuthority('nope')).toBeUndefined();
    expect(parseAuthority('1.2.3.4:70000')).toBeUndefined();
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('10.244.0.7')).toBe(false);
  });
});
