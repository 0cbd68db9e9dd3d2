import { describe, expect, it } from 'vitest';
import { classifyLeftovers } from '../../../src/leftovers/leftovers.ts';
import type { LeftoverScan } from '../../../src/leftovers/types.ts';
import { finalizersIn, remainingResources, stuckReason } from '../../../src/leftovers/namespaces.ts';
import { notApproved } from '../../../src/engine/phases/leftovers.ts';
import { planDifference } from '../../../src/upgrade/resume.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { formatPlan } from '../../../src/cli/plan-format.ts';
import { stepPermissions } from '../../../src/preflight/permissions.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

const part = { 'app.kubernetes.io/part-of': 'nginx-service-mesh' };
const empty: LeftoverScan = {
  webhooks: [],
  services: new Set(),
  crds: [],
  apiServices: [],
  pvcs: [],
  statefulsets: [],
  sentinels: [],
  terminating: [],
};
const scan = (over: Partial<LeftoverScan>): LeftoverScan => ({ ...empty, ...over });
const pre = { namespace: 'nginx-mesh', phase: 'preflight' as const };
const dep = { namespace: 'nginx-mesh', phase: 'before-deploy' as const };

const webhook = (
  name: string,
  svc: { namespace: string; name: string },
  failurePolicy?: string,
  labels: Record<string, string> = part,
) => ({
  resource: 'mutatingwebhookconfigurations' as const,
  obj: {
    metadata: { name, labels },
    webhooks: [
      {
        name: 'w',
        ...(failurePolicy ? { failurePolicy } : {}),
        clientConfig: { service: svc },
        rules: [{ operations: ['CREATE'], resources: ['pods'] }],
      },
    ],
  },
});
const terminatingNs = (name: string, conditions: { type: string; status: string; message?: string }[]) => ({
  metadata: { name },
  status: { phase: 'Terminating', conditions },
});

describe('classifyLeftovers', () => {
  it("finds nothing in a clean cluster, and nothing for the live mesh's own objects", () => {
    const live = scan({
      webhooks: [
        webhook('sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx', {
          namespace: 'nginx-mesh',
          name: 'nginx-mesh-api',
        }),
      ],
      services: new Set(['nginx-mesh/nginx-mesh-api', 'nginx-mesh/nginx-mesh-metrics']),
      crds: [{ metadata: { name: 'trafficsplits.split.smi-spec.io', labels: part } }],
      apiServices: [
        {
          metadata: { name: 'v1alpha1.nsm.nginx.com', labels: part },
          spec: {
            group: 'nsm.nginx.com',
            version: 'v1alpha1',
            service: { namespace: 'nginx-mesh', name: 'nginx-mesh-api' },
          },
        },
      ],
      pvcs: [{ metadata: { name: 'spire-data-spire-server-0', namespace: 'nginx-mesh' } }],
      statefulsets: [
        { metadata: { name: 'spire-server' }, spec: { volumeClaimTemplates: [{ metadata: { name: 'spire-data' } }] } },
      ],
    });
    expect(classifyLeftovers(live, pre)).toEqual([]);
    expect(classifyLeftovers(empty, dep)).toEqual([]);
  });

  it('a mesh webhook whose service is gone: with failurePolicy Fail (the default) it blocks what it matches', () => {
    const found = classifyLeftovers(
      scan({ webhooks: [webhook('x.nsm.nginx', { namespace: 'old', name: 'nginx-mesh-api' })] }),
      pre,
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      kind: 'webhook',
      name: 'x.nsm.nginx',
      clear: { bin: 'kubectl', args: ['delete', 'mutatingwebhookconfiguration', 'x.nsm.nginx'] },
    });
    expect(found[0]!.breaks).toContain('failurePolicy is Fail');
    expect(found[0]!.breaks).toContain('CREATE pods');
    const ignore = classifyLeftovers(
      scan({ webhooks: [webhook('x.nsm.nginx', { namespace: 'old', name: 'a' }, 'Ignore')] }),
      pre,
    );
    expect(ignore[0]!.breaks).toContain('failurePolicy Ignore');
  });

  it("a chart-named webhook without the mesh's label is reported, never the tool's to delete; one of another product is not looked at", () => {
    const chart = classifyLeftovers(
      scan({
        webhooks: [
          webhook('validating-webhook-cfg.internal.builtin.nsm.nginx', { namespace: 'old', name: 'a' }, undefined, {}),
        ],
      }),
      pre,
    );
    expect(chart[0]!.breaks).toContain('cannot be imported');
    expect(chart[0]!.foreign).toMatch(
      /^not provably the mesh's: it has neither the label app.kubernetes.io\/part-of=nginx-service-mesh/,
    );
    expect(
      classifyLeftovers(
        scan({ webhooks: [webhook('istio-sidecar-injector', { namespace: 'istio', name: 'istiod' }, undefined, {})] }),
        pre,
      ),
    ).toEqual([]);
    // Helm's ownership by the mesh's own release is evidence too.
    const helmOwned = webhook('x.nsm.nginx', { namespace: 'old', name: 'a' }, undefined, {});
    helmOwned.obj.metadata = {
      ...helmOwned.obj.metadata,
      annotations: { 'meta.helm.sh/release-name': 'nsm', 'meta.helm.sh/release-namespace': 'nginx-mesh' },
    } as never;
    expect(classifyLeftovers(scan({ webhooks: [helmOwned] }), { ...pre, release: 'nsm' })[0]!.foreign).toBeUndefined();
    expect(classifyLeftovers(scan({ webhooks: [helmOwned] }), { ...pre, release: 'other' })[0]!.foreign).toBeDefined();
  });

  it('a mesh CRD without the part-of label is reported and never adopted: the charts label every CRD they install', () => {
    const found = classifyLeftovers(
      scan({ crds: [{ metadata: { name: 'circuitbreakers.specs.smi.nginx.com', labels: { other: 'x' } } }] }),
      pre,
    );
    expect(found).toMatchObject([
      {
        kind: 'crd-unlabelled',
        clear: {
          args: ['label', 'crd', 'circuitbreakers.specs.smi.nginx.com', 'app.kubernetes.io/part-of=nginx-service-mesh'],
        },
      },
    ]);
    expect(found[0]!.breaks).toContain('nginx-meshctl deploy refuses');
    expect(found[0]!.foreign).toContain('never adopts it');
    expect(found[0]!.foreign).toContain('every object of it in all namespaces');
  });

  it("an APIService of the mesh whose service is gone: by label; one of a mesh group without the label is reported, not the tool's to delete; local ones and others are left alone", () => {
    const apis = [
      {
        metadata: { name: 'v1beta1.metrics.smi-spec.io' },
        spec: {
          group: 'metrics.smi-spec.io',
          version: 'v1beta1',
          service: { namespace: 'old', name: 'nginx-mesh-metrics' },
        },
        status: { conditions: [{ type: 'Available', status: 'False', reason: 'ServiceNotFound' }] },
      },
      {
        metadata: { name: 'v1alpha2.nsm.nginx.com' },
        spec: { group: 'nsm.nginx.com', version: 'v1alpha2', service: null },
      },
      {
        metadata: { name: 'v1.other.io' },
        spec: { group: 'other.io', version: 'v1', service: { namespace: 'x', name: 'y' } },
      },
    ];
    const found = classifyLeftovers(scan({ apiServices: apis }), pre);
    expect(found.map((l) => l.what)).toEqual([
      'APIService v1beta1.metrics.smi-spec.io (Available=False, ServiceNotFound)',
    ]);
    expect(found[0]!.breaks).toContain('namespace deletions stall');
    expect(found[0]!.foreign).toContain("not provably the mesh's");
    const labelled = classifyLeftovers(
      scan({ apiServices: [{ ...apis[0]!, metadata: { name: 'v1beta1.metrics.smi-spec.io', labels: part } }] }),
      pre,
    );
    expect(labelled[0]).toMatchObject({ kind: 'apiservice' });
    expect(labelled[0]!.foreign).toBeUndefined();
  });

  it('a SPIRE volume no spire-server StatefulSet claims, in the mesh namespace, at preflight only', () => {
    const pvcs = [
      { metadata: { name: 'spire-data-spire-server-0', namespace: 'nginx-mesh', labels: part } },
      { metadata: { name: 'data-other-0', namespace: 'nginx-mesh' } },
    ];
    expect(classifyLeftovers(scan({ pvcs }), pre).map((l) => l.name)).toEqual(['spire-data-spire-server-0']);
    expect(classifyLeftovers(scan({ pvcs }), pre)[0]!.foreign).toBeUndefined();
    // The StatefulSet controller gives its claims the selector's labels: one without them is not provably the mesh's.
    expect(
      classifyLeftovers(
        scan({ pvcs: [{ metadata: { name: 'spire-data-spire-server-1', namespace: 'nginx-mesh' } }] }),
        pre,
      )[0]!.foreign,
    ).toBeDefined();
    // A spire-server StatefulSet without the template (persistent storage off) does not claim it.
    expect(
      classifyLeftovers(scan({ pvcs, statefulsets: [{ metadata: { name: 'spire-server' }, spec: {} }] }), pre),
    ).toHaveLength(1);
    // Before a deploy: the hop's own removal kept it, as an in-place upgrade would.
    expect(classifyLeftovers(scan({ pvcs }), dep)).toEqual([]);
  });

  it("a csi-driver-sentinel Job with the mesh's label, in any namespace; one without it is not the mesh's", () => {
    const found = classifyLeftovers(
      scan({
        sentinels: [{ metadata: { name: 'csi-driver-sentinel', namespace: 'old-mesh', uid: 'u1', labels: part } }],
      }),
      dep,
    );
    expect(found).toMatchObject([
      {
        kind: 'sentinel-job',
        namespace: 'old-mesh',
        uid: 'u1',
        clear: { args: ['delete', 'job', 'csi-driver-sentinel', '-n', 'old-mesh'] },
      },
    ]);
    expect(found[0]!.foreign).toBeUndefined();
    // Someone else's Job of that name elsewhere is in nobody's way; in the mesh namespace it is in the removal's, and only reported.
    expect(
      classifyLeftovers(
        scan({ sentinels: [{ metadata: { name: 'csi-driver-sentinel', namespace: 'batch-jobs' } }] }),
        dep,
      ),
    ).toEqual([]);
    expect(
      classifyLeftovers(
        scan({ sentinels: [{ metadata: { name: 'csi-driver-sentinel', namespace: 'nginx-mesh' } }] }),
        dep,
      )[0]!.foreign,
    ).toBeDefined();
  });

  it("terminating namespaces: only a stuck one; at preflight not the installed mesh's own", () => {
    const slow = terminatingNs('nginx-mesh', [
      {
        type: 'NamespaceContentRemaining',
        status: 'True',
        message: 'Some resources are remaining: pods. has 2 resource instances',
      },
    ]);
    const stuck = terminatingNs('old-mesh', [
      {
        type: 'NamespaceContentRemaining',
        status: 'True',
        message: 'Some resources are remaining: configmaps. has 1 resource instances',
      },
      {
        type: 'NamespaceFinalizersRemaining',
        status: 'True',
        message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
      },
    ]);
    const holders = [
      {
        path: '/apis/spiffeid.spiffe.io/v1beta1/namespaces/old-mesh/spiffeids/n1',
        name: 'n1',
        resource: 'spiffeids.spiffeid.spiffe.io',
        finalizers: ['finalizers.spiffeid.spiffe.io'],
      },
    ];
    const s = scan({
      terminating: [
        { ns: slow, holders: [] },
        { ns: stuck, holders },
      ],
    });
    expect(classifyLeftovers(s, pre).map((l) => l.what)).toEqual(['namespace old-mesh (Terminating, stuck)']);
    expect(classifyLeftovers(s, { namespace: 'other', phase: 'preflight' })).toHaveLength(1);
    const stuckSelf = scan({ terminating: [{ ns: terminatingNs('nginx-mesh', stuck.status.conditions), holders }] });
    expect(classifyLeftovers(stuckSelf, pre)).toEqual([]);
    expect(classifyLeftovers(stuckSelf, dep)).toHaveLength(1);
    // Before a deploy: the namespace the removal is deleting is waited for, unless stuck.
    const found = classifyLeftovers(s, dep);
    expect(found.map((l) => l.name)).toEqual(['old-mesh']);
    expect(found[0]!.clear.args).toEqual([
      'patch',
      'spiffeids.spiffeid.spiffe.io',
      'n1',
      '-n',
      'old-mesh',
      '--type',
      'merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    expect(found[0]!.breaks).toContain('finalizers.spiffeid.spiffe.io');
    expect(found[0]!.foreign).toBeUndefined();
  });

  it("a stuck namespace held by another controller's finalizer is reported with the object and the controller, never cleared", () => {
    const stuck = terminatingNs('old-mesh', [
      {
        type: 'NamespaceFinalizersRemaining',
        status: 'True',
        message:
          'Some content in the namespace has finalizers remaining: service.kubernetes.io/load-balancer-cleanup in 1 resource instances',
      },
    ]);
    const holders = [
      {
        path: '/api/v1/namespaces/old-mesh/services/lb',
        name: 'lb',
        resource: 'services',
        finalizers: ['service.kubernetes.io/load-balancer-cleanup'],
      },
      {
        path: '/api/v1/namespaces/old-mesh/configmaps/c',
        name: 'c',
        resource: 'configmaps',
        finalizers: ['example.com/hold'],
      },
      // The registrar's finalizer counts only on a SpiffeID: copied onto another kind it is not the mesh's to remove.
      {
        path: '/api/v1/namespaces/old-mesh/secrets/s',
        name: 's',
        resource: 'secrets',
        finalizers: ['finalizers.spiffeid.spiffe.io'],
      },
    ];
    const [found] = classifyLeftovers(scan({ terminating: [{ ns: stuck, holders }] }), dep);
    expect(found!.foreign).toContain(
      "services/lb (service.kubernetes.io/load-balancer-cleanup (set by the cloud provider's service controller (cloud-controller-manager)",
    );
    expect(found!.foreign).toContain('configmaps/c (example.com/hold (set by a controller of example.com))');
    expect(found!.foreign).toContain('secrets/s (finalizers.spiffeid.spiffe.io');
    expect(found!.clear.args).toEqual(['get', 'namespace', 'old-mesh', '-o', 'yaml']);
    // Kubernetes' own finalizers clear themselves: not a reason to refuse.
    const pvc = [
      {
        path: '/api/v1/namespaces/old-mesh/persistentvolumeclaims/p',
        name: 'p',
        resource: 'persistentvolumeclaims',
        finalizers: ['kubernetes.io/pvc-protection'],
      },
    ];
    expect(classifyLeftovers(scan({ terminating: [{ ns: stuck, holders: pvc }] }), dep)[0]!.foreign).toBeUndefined();
  });

  it('lists them in the order they are cleared: a stuck namespace after the APIService that may hold it', () => {
    const s = scan({
      terminating: [
        {
          ns: terminatingNs('old', [
            { type: 'NamespaceDeletionDiscoveryFailure', status: 'True', message: 'Discovery failed for some groups' },
          ]),
          holders: [],
        },
      ],
      apiServices: [
        {
          metadata: { name: 'v1alpha1.nsm.nginx.com', labels: part },
          spec: { group: 'nsm.nginx.com', version: 'v1alpha1', service: { namespace: 'old', name: 'nginx-mesh-api' } },
        },
      ],
      crds: [{ metadata: { name: 'tcproutes.specs.smi-spec.io' } }],
      webhooks: [webhook('a.nsm.nginx', { namespace: 'old', name: 'x' })],
    });
    expect(classifyLeftovers(s, pre).map((l) => l.kind)).toEqual([
      'webhook',
      'apiservice',
      'crd-unlabelled',
      'terminating-namespace',
    ]);
  });
});

describe('namespace conditions', () => {
  it("parses the namespace controller's messages", () => {
    expect(
      finalizersIn(
        'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances, kubernetes.io/pvc-protection in 2 resource instances',
      ),
    ).toEqual(['example.com/hold', 'kubernetes.io/pvc-protection']);
    expect(
      remainingResources(
        'Some resources are remaining: configmaps. has 1 resource instances, ratelimits.specs.smi.nginx.com has 2 resource instances',
      ),
    ).toEqual([
      { resource: 'configmaps', group: '' },
      { resource: 'ratelimits', group: 'specs.smi.nginx.com' },
    ]);
  });
  it("a deletion waiting on a controller's own finalizer is slow, not stuck", () => {
    expect(
      stuckReason(
        terminatingNs('a', [
          {
            type: 'NamespaceFinalizersRemaining',
            status: 'True',
            message:
              'Some content in the namespace has finalizers remaining: kubernetes.io/pvc-protection in 1 resource instances',
          },
        ]),
      ),
    ).toBeUndefined();
    expect(
      stuckReason(terminatingNs('a', [{ type: 'NamespaceDeletionDiscoveryFailure', status: 'False' }])),
    ).toBeUndefined();
    expect(
      stuckReason(
        terminatingNs('a', [
          {
            type: 'NamespaceDeletionDiscoveryFailure',
            status: 'True',
            message:
              'Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.smi-spec.io/v1beta1',
          },
        ]),
      ),
    ).toContain('metrics.smi-spec.io');
  });
});

describe('the plan with leftovers', () => {
  const install: Install = {
    namespace: 'nginx-mesh',
    version: '1.6.0',
    method: 'meshctl',
    release: 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.6.0',
    environment: 'kubernetes',
    values: {},
    controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.6.0' },
    warnings: [],
  };
  const leftovers = classifyLeftovers(
    scan({ sentinels: [{ metadata: { name: 'csi-driver-sentinel', namespace: 'old', labels: part } }] }),
    pre,
  );
  const opts = (over: Partial<PlanOptions>): PlanOptions => ({
    to: '2.0.0',
    strategy: 'auto',
    meshctlBinaries: { '1.6.0': '/m16', '1.7.0': '/m17', '2.0.0': '/m20' },
    helm: undefined,
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/b',
    timeout: '10m',
    leftovers,
    ...over,
  });

  it('lists them, and adds no step without --clean-leftovers', () => {
    const plan = buildPlan(install, opts({}));
    expect(plan.leftovers).toEqual(leftovers);
    expect(plan.hops.flatMap((h) => h.steps.map((s) => s.kind))).not.toContain('clean-leftovers');
    const text = formatPlan(plan, 'text');
    expect(text).toContain('Leftovers of earlier removals (1): the upgrade refuses to start (exit 3)');
    expect(text).toContain('clear:  kubectl delete job csi-driver-sentinel -n old');
    expect(JSON.parse(formatPlan(plan, 'json')).leftovers[0].kind).toBe('sentinel-job');
  });

  it('--clean-leftovers: one step, hop 1 right after the backup, destructive', () => {
    const plan = buildPlan(install, opts({ cleanLeftovers: true }));
    expect(plan.hops[0]!.steps.map((s) => s.id).slice(0, 2)).toEqual(['hop1.backup', 'hop1.clean-leftovers']);
    expect(plan.hops[1]!.steps.map((s) => s.kind)).not.toContain('clean-leftovers');
    const step = plan.hops[0]!.steps[1]!;
    expect(step).toMatchObject({
      destructive: true,
      writes: true,
      params: { namespace: 'nginx-mesh', found: leftovers },
    });
    expect(formatPlan(plan, 'text')).toContain('step hop1.clean-leftovers clears them after the backup');
  });

  it("a resume clears the same list: the step's approved leftovers (with their uids) come back from the journaled inputs unchanged", () => {
    const withUid = classifyLeftovers(
      scan({ sentinels: [{ metadata: { name: 'csi-driver-sentinel', namespace: 'old', uid: 'u-1', labels: part } }] }),
      pre,
    );
    const inputs = opts({ cleanLeftovers: true, leftovers: withUid });
    const journaled = JSON.parse(JSON.stringify({ plan: buildPlan(install, inputs), inputs })) as {
      plan: ReturnType<typeof buildPlan>;
      inputs: PlanOptions;
    };
    const rebuilt = buildPlan(install, journaled.inputs);
    expect(planDifference(journaled.plan, rebuilt, new Map())).toBeUndefined();
    expect(rebuilt.hops[0]!.steps[1]!.params).toMatchObject({ found: [{ kind: 'sentinel-job', uid: 'u-1' }] });
  });

  it('the preflight checks every permission the step and the scan need', () => {
    const verbs = stepPermissions['clean-leftovers'].map((p) => `${p.verb} ${p.resource}`);
    expect(verbs).toEqual(
      expect.arrayContaining([
        'delete mutatingwebhookconfigurations',
        'delete apiservices',
        'delete jobs',
        'delete persistentvolumeclaims',
        'patch spiffeids',
        'list namespaces',
      ]),
    );
    expect(verbs).not.toContain('patch customresourcedefinitions');
    expect(stepPermissions.backup.map((p) => `${p.verb} ${p.resource}`)).toEqual(
      expect.arrayContaining(['list apiservices', 'list persistentvolumeclaims']),
    );
  });
});

describe('what a step may clear: exactly what the approved plan listed', () => {
  const sentinel = (uid: string) =>
    classifyLeftovers(
      scan({ sentinels: [{ metadata: { name: 'csi-driver-sentinel', namespace: 'old', uid, labels: part } }] }),
      pre,
    );
  const stuckNs = (holders: { name: string; uid: string }[]) =>
    classifyLeftovers(
      scan({
        terminating: [
          {
            ns: {
              ...terminatingNs('old-mesh', [
                {
                  type: 'NamespaceFinalizersRemaining',
                  status: 'True',
                  message:
                    'Some content in the namespace has finalizers remaining: finalizers.spiffeid.spiffe.io in 1 resource instances',
                },
              ]),
              metadata: { name: 'old-mesh', uid: 'ns1' },
            },
            holders: holders.map((h) => ({
              path: `/apis/spiffeid.spiffe.io/v1beta1/namespaces/old-mesh/spiffeids/${h.name}`,
              name: h.name,
              uid: h.uid,
              resource: 'spiffeids.spiffeid.spiffe.io',
              finalizers: ['finalizers.spiffeid.spiffe.io'],
            })),
          },
        ],
      }),
      dep,
    );

  it('matches kind, namespace, name and uid', () => {
    expect(notApproved(sentinel('u1'), sentinel('u1'))).toEqual([]);
    // The same name, another object (re-created since the plan): not the one approved.
    expect(notApproved(sentinel('u2'), sentinel('u1'))).toEqual([
      'Job old/csi-driver-sentinel (from an earlier removal) (uid u2): the approved plan did not list it',
    ]);
    expect(notApproved(sentinel('u1'), [])).toHaveLength(1);
    // Listed but gone now: nothing to object to.
    expect(notApproved([], sentinel('u1'))).toEqual([]);
  });

  it('a stuck namespace now held by an object the plan did not list is not approved', () => {
    const planned = stuckNs([{ name: 'a', uid: 'a1' }]);
    expect(notApproved(stuckNs([{ name: 'a', uid: 'a1' }]), planned)).toEqual([]);
    expect(
      notApproved(
        stuckNs([
          { name: 'a', uid: 'a1' },
          { name: 'b', uid: 'b1' },
        ]),
        planned,
      ),
    ).toEqual([
      'namespace old-mesh (Terminating, stuck): now also held by spiffeids.spiffeid.spiffe.io/b, which the approved plan did not list',
    ]);
  });
});
