import { describe, expect, it } from 'vitest';
import {
  classifyNamespaceObjects,
  describeForeign,
  type NamespaceItem,
} from '../../../src/leftovers/namespace-objects.ts';
import { namespaceRemovals } from '../../../src/preflight/foreign-objects.ts';
import { finalizerOwner } from '../../../src/leftovers/mesh-ownership.ts';
import type { Plan } from '../../../src/engine/types.ts';

const part = { 'app.kubernetes.io/part-of': 'nginx-service-mesh' };
const mesh = { namespace: 'nginx-mesh', release: 'nginx-service-mesh' };
const item = (
  resource: string,
  kind: string,
  name: string,
  meta: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): NamespaceItem => ({
  resource,
  kind,
  obj: { metadata: { name, namespace: 'nginx-mesh', uid: `${kind}-${name}`, ...meta }, ...extra },
});
const ownedBy = (i: NamespaceItem) => ({ ownerReferences: [{ uid: i.obj.metadata!.uid as string }] });

describe("the objects of the mesh namespace: the mesh's and the rest", () => {
  // What a real mesh namespace holds (listed from a 2.0.0 install on the test cluster), plus Kubernetes' own.
  const api = item('deployments.apps', 'Deployment', 'nginx-mesh-controller', { labels: part });
  const rs = item('replicasets.apps', 'ReplicaSet', 'nginx-mesh-controller-1', { labels: part, ...ownedBy(api) });
  const pod = item('pods', 'Pod', 'nginx-mesh-controller-1-x', ownedBy(rs));
  const svc = item('services', 'Service', 'nginx-mesh-controller', { labels: part });
  const meshOwned = [
    api,
    rs,
    pod,
    svc,
    item('endpoints', 'Endpoints', 'nginx-mesh-controller'),
    item('endpointslices.discovery.k8s.io', 'EndpointSlice', 'nginx-mesh-controller-abc', ownedBy(svc)),
    item('secrets', 'Secret', 'sh.helm.release.v1.nginx-service-mesh.v1', {
      labels: { owner: 'helm', name: 'nginx-service-mesh' },
    }),
    item('serviceaccounts', 'ServiceAccount', 'default'),
    item('configmaps', 'ConfigMap', 'kube-root-ca.crt'),
    item('serviceaccounts', 'ServiceAccount', 'spire-server', { labels: part }),
    item(
      'secrets',
      'Secret',
      'spire-server-token-abc',
      { annotations: { 'kubernetes.io/service-account.name': 'spire-server' } },
      { type: 'kubernetes.io/service-account-token' },
    ),
    item('spiffeids.spiffeid.spiffe.io', 'SpiffeID', 'node-1', { finalizers: ['finalizers.spiffeid.spiffe.io'] }),
    item('persistentvolumeclaims', 'PersistentVolumeClaim', 'spire-data-spire-server-0', {
      finalizers: ['kubernetes.io/pvc-protection'],
    }),
    item('configmaps', 'ConfigMap', 'helm-made', {
      annotations: {
        'meta.helm.sh/release-name': 'nginx-service-mesh',
        'meta.helm.sh/release-namespace': 'nginx-mesh',
      },
    }),
  ];

  it('finds nothing foreign in a mesh namespace as the charts and Kubernetes leave it', () => {
    expect(classifyNamespaceObjects(meshOwned, mesh)).toEqual({ foreign: [], finalizers: [] });
  });

  it("names each object that is not the mesh's once, with what it owns", () => {
    const shop = item('deployments.apps', 'Deployment', 'shop');
    const shopRs = item('replicasets.apps', 'ReplicaSet', 'shop-1', ownedBy(shop));
    const extra = [
      shop,
      shopRs,
      item('pods', 'Pod', 'shop-1-a', ownedBy(shopRs)),
      item('pods', 'Pod', 'shop-1-b', ownedBy(shopRs)),
      item('configmaps', 'ConfigMap', 'user-settings'),
      // A release of another chart in the same namespace, and a mesh-looking name without evidence.
      item('secrets', 'Secret', 'sh.helm.release.v1.redis.v1', { labels: { owner: 'helm', name: 'redis' } }),
      item('services', 'Service', 'shop'),
      item('endpoints', 'Endpoints', 'shop'),
      item(
        'secrets',
        'Secret',
        'ci-token',
        { annotations: { 'kubernetes.io/service-account.name': 'ci' } },
        { type: 'kubernetes.io/service-account-token' },
      ),
      item('configmaps', 'ConfigMap', 'other-helm', {
        annotations: { 'meta.helm.sh/release-name': 'redis', 'meta.helm.sh/release-namespace': 'nginx-mesh' },
      }),
    ];
    const v = classifyNamespaceObjects([...meshOwned, ...extra], mesh);
    expect(v.foreign.map(describeForeign)).toEqual([
      'Deployment nginx-mesh/shop (with 1 ReplicaSet, 2 Pods)',
      'ConfigMap nginx-mesh/user-settings',
      'Secret nginx-mesh/sh.helm.release.v1.redis.v1',
      'Service nginx-mesh/shop (with 1 Endpoints)',
      'Secret nginx-mesh/ci-token',
      'ConfigMap nginx-mesh/other-helm',
    ]);
    expect(v.finalizers).toEqual([]);
  });

  it("an object holding another controller's finalizer is named with that controller, the mesh's or not", () => {
    const lb = item(
      'services',
      'Service',
      'public-lb',
      { finalizers: ['service.kubernetes.io/load-balancer-cleanup'] },
      { spec: { type: 'LoadBalancer' } },
    );
    const meshCm = item('configmaps', 'ConfigMap', 'mesh-config', { labels: part, finalizers: ['example.com/keep'] });
    const v = classifyNamespaceObjects([...meshOwned, lb, meshCm], mesh);
    expect(v.finalizers.map((f) => [f.item.obj.metadata!.name, f.finalizers])).toEqual([
      [
        'public-lb',
        [
          {
            finalizer: 'service.kubernetes.io/load-balancer-cleanup',
            controller: expect.stringContaining('cloud-controller-manager'),
          },
        ],
      ],
      ['mesh-config', [{ finalizer: 'example.com/keep', controller: 'a controller of example.com' }]],
    ]);
    expect(v.foreign.map(describeForeign)).toEqual(['Service nginx-mesh/public-lb']);
  });

  it("finalizers: the mesh's only on its own kind, Kubernetes' own clear themselves", () => {
    expect(finalizerOwner('finalizers.spiffeid.spiffe.io', 'spiffeids.spiffeid.spiffe.io').owner).toBe('mesh');
    expect(finalizerOwner('finalizers.spiffeid.spiffe.io', 'configmaps').owner).toBe('other');
    expect(finalizerOwner('kubernetes.io/pvc-protection', 'persistentvolumeclaims').owner).toBe('kubernetes');
    expect(finalizerOwner('foregroundDeletion', 'deployments.apps').owner).toBe('kubernetes');
  });
});

describe('which plans delete the mesh namespace', () => {
  const plan = (method: 'meshctl' | 'helm', kinds: string[]) =>
    ({ hops: [{ method, steps: kinds.map((k) => ({ id: `hop1.${k}`, kind: k })) }] }) as unknown as Plan;
  it('nginx-meshctl remove does (it deletes the namespace); helm uninstall and in-place upgrades do not', () => {
    expect(namespaceRemovals(plan('meshctl', ['backup', 'remove', 'deploy']))).toEqual(['hop1.remove']);
    expect(namespaceRemovals(plan('helm', ['backup', 'remove', 'delete-crds', 'deploy']))).toEqual([]);
    expect(namespaceRemovals(plan('meshctl', ['backup', 'upgrade']))).toEqual([]);
  });
});
