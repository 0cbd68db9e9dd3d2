import { describe, expect, it } from 'vitest';
import { clusterDirNames, fleetSpec, parseFleetFile, type ClusterDefaults } from '../../../src/fleet/fleet-file.ts';
import { UsageError } from '../../../src/errors.ts';

const defaults: ClusterDefaults = {
  meshNamespace: 'nginx-mesh',
  method: 'auto',
  strategy: 'auto',
  meshctl: ['/opt/nsm/2.0.0'],
  kubeconfig: '/home/me/.kube/config',
};

const file = `
to: 2.0.0
canary: staging
maxParallel: 2
clusters:
  - context: staging
    meshctl: bin/nginx-meshctl-2.0.0
    meshctlCurrent: ../old/nginx-meshctl-1.7.0
  - context: prod-eu
    kubeconfig: prod.kubeconfig
    meshNamespace: mesh
    method: helm
    helm: helm
    release: nsm
    chart: ./charts/nsm
  - context: arn:aws:eks:eu-west-1:1234:cluster/prod-us
    chart: nginx-stable/nginx-service-mesh
    strategy: manual
    meshctl: [/abs/a, rel/b]
`;

describe('the fleet file', () => {
  it('reads contexts and per-cluster settings; paths are relative to the file, bare command names and repository charts stay', () => {
    const f = parseFleetFile(file, '/etc/nsm/fleet.yaml');
    expect(f).toMatchObject({ to: '2.0.0', canary: 'staging', maxParallel: 2 });
    expect(f.clusters[0]).toMatchObject({
      context: 'staging',
      meshctl: ['/etc/nsm/bin/nginx-meshctl-2.0.0'],
      meshctlCurrent: '/etc/old/nginx-meshctl-1.7.0',
    });
    expect(f.clusters[1]).toMatchObject({
      kubeconfig: '/etc/nsm/prod.kubeconfig',
      meshNamespace: 'mesh',
      method: 'helm',
      helm: 'helm',
      release: 'nsm',
      chart: '/etc/nsm/charts/nsm',
    });
    expect(f.clusters[2]).toMatchObject({
      chart: 'nginx-stable/nginx-service-mesh',
      strategy: 'manual',
      meshctl: ['/abs/a', '/etc/nsm/rel/b'],
    });
  });

  it("an entry wins over the flags' defaults; what it does not say comes from them", () => {
    const spec = fleetSpec({ file: parseFleetFile(file, '/etc/nsm/fleet.yaml') }, defaults, {});
    expect(spec).toMatchObject({ to: '2.0.0', canary: 'staging', maxParallel: 2 });
    expect(spec.clusters[0]).toMatchObject({
      meshNamespace: 'nginx-mesh',
      kubeconfig: '/home/me/.kube/config',
      meshctl: ['/etc/nsm/bin/nginx-meshctl-2.0.0'],
      dir: 'staging',
    });
    expect(spec.clusters[1]).toMatchObject({
      meshNamespace: 'mesh',
      kubeconfig: '/etc/nsm/prod.kubeconfig',
      meshctl: ['/opt/nsm/2.0.0'],
      method: 'helm',
    });
    expect(spec.clusters[2]!.dir).toBe('arn_aws_eks_eu-west-1_1234_cluster_prod-us');
  });

  const refused: [string, string, RegExp][] = [
    ['an unknown key', 'clusters: [{context: a, meshctll: x}]', /unknown key meshctll/],
    ['an unknown top-level key', 'to: 2.0.0\nwaves: 3\nclusters: [{context: a}]', /unknown key waves/],
    ['no context', 'clusters: [{meshNamespace: x}]', /context is required/],
    ['no clusters', 'to: 2.0.0', /\/clusters is required/],
    [
      'a method that does not exist',
      'clusters: [{context: a, method: kubectl}]',
      /method is "kubectl", not one of auto, meshctl, helm/,
    ],
    [
      'a number where a path goes',
      'clusters: [{context: a, helm: 3}]',
      /\/clusters\/0\/helm is 3, not a non-empty string/,
    ],
    ['YAML aliases', 'x: &a [1]\nclusters: [{context: *a}]', /not valid YAML: .*(anchor|alias)/i],
    ['a list, not a map', '- context: a', /the top level is a list of 1, not a map with clusters/],
    [
      'maxParallel 0',
      'maxParallel: 0\nclusters: [{context: a}]',
      /\/maxParallel is 0, not a whole number of at least 1/,
    ],
  ];
  for (const [what, text, msg] of refused) {
    it(`refuses ${what} (exit 2)`, () => {
      const err = (() => {
        try {
          parseFleetFile(text, 'f.yaml');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
    });
  }
});

describe('fleetSpec: --contexts, the file and the flags', () => {
  it('--contexts: every cluster gets the defaults', () => {
    const spec = fleetSpec({ contexts: ['a', 'b'] }, defaults, { to: '2.0.0' });
    expect(spec.clusters.map((c) => [c.context, c.dir, c.meshNamespace])).toEqual([
      ['a', 'a', 'nginx-mesh'],
      ['b', 'b', 'nginx-mesh'],
    ]);
    expect(spec.maxParallel).toBe(1);
  });

  const refused: [string, Parameters<typeof fleetSpec>[0], Parameters<typeof fleetSpec>[2], RegExp][] = [
    [
      'both --contexts and --fleet',
      { contexts: ['a'], file: { clusters: [{ context: 'a' }] } },
      { to: '2.0.0' },
      /both name the clusters/,
    ],
    ['no cluster', { contexts: [] }, { to: '2.0.0' }, /needs clusters/],
    ['a context twice', { contexts: ['a', 'a'] }, { to: '2.0.0' }, /named twice/],
    ['no target version', { contexts: ['a'] }, {}, /needs a target version/],
    [
      '--to against the file',
      { file: { to: '1.7.0', clusters: [{ context: 'a' }] } },
      { to: '2.0.0' },
      /--to 2\.0\.0 contradicts the fleet file, which has 1\.7\.0/,
    ],
    [
      'a --canary outside the fleet',
      { contexts: ['a'] },
      { to: '2.0.0', canary: 'b' },
      /--canary b is not a cluster of the fleet/,
    ],
    ['--max-parallel 0', { contexts: ['a'] }, { to: '2.0.0', maxParallel: 0 }, /--max-parallel 0 is out of range/],
    ['a context with a space', { contexts: ['a b'] }, { to: '2.0.0' }, /not a context name/],
  ];
  for (const [what, source, flags, msg] of refused) {
    it(`refuses ${what}`, () => expect(() => fleetSpec(source, defaults, flags)).toThrow(msg));
  }

  it('--to and the file agree when they name the same version', () => {
    expect(fleetSpec({ file: { to: 'v2.0', clusters: [{ context: 'a' }] } }, defaults, { to: '2.0.0' }).to).toBe(
      '2.0.0',
    );
  });
});

describe('clusterDirNames', () => {
  it('makes every context a safe, unique directory name', () => {
    expect(
      clusterDirNames(['prod', 'gke_p_europe-west1_c', 'a/b', 'a_b', '..', '.hidden', 'fleet.json', 'logs', '']),
    ).toEqual(['prod', 'gke_p_europe-west1_c', 'a_b', 'a_b-2', '__', '_hidden', 'fleet.json-2', 'logs-2', 'cluster']);
  });
});
