import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/upgrade/plan.ts';
import { crosses, hopsBetween, releases } from '../../src/mesh/versions.ts';
import { compareVersions } from '../../src/version-compare.ts';
import type { Install, Plan, PlanOptions, StepKind } from '../../src/engine/types.ts';

const allBinaries = Object.fromEntries(releases.map((r) => [r.version, `/bin/nginx-meshctl-${r.version}`]));

function install(over: Partial<Install> = {}): Install {
  return {
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
    ...over,
  };
}

function options(over: Partial<PlanOptions> = {}): PlanOptions {
  return {
    to: '1.7.0',
    strategy: 'auto',
    meshctlBinaries: allBinaries,
    helm: { bin: '/bin/helm', major: 3 },
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/b',
    timeout: '10m',
    context: 'ctx',
    ...over,
  };
}

const kinds = (p: Plan, hop = 0) => p.hops[hop]!.steps.map((s) => s.kind);
const ids = (p: Plan) => p.refusals.map((r) => r.id);

/** The oracle: which steps each path runs, in order (NSM upgrade docs; FACTS.md). */
const expectedKinds: Record<string, StepKind[]> = {
  'meshctl in-place kubernetes': ['backup', 'upgrade', 'restart', 'verify'],
  'meshctl in-place openshift': ['backup', 'upgrade', 'restart', 'verify'],
  'meshctl manual kubernetes': ['backup', 'remove', 'deploy', 'restore', 'restart', 'verify'],
  'meshctl manual openshift': [
    'backup',
    'remove',
    'restart-unmeshed',
    'wait-sentinel',
    'deploy',
    'restore',
    'restart',
    'verify',
  ],
  'helm in-place kubernetes': ['backup', 'apply-crds', 'upgrade', 'restart', 'verify'],
  'helm in-place openshift': ['backup', 'apply-crds', 'upgrade', 'restart', 'verify'],
  'helm manual kubernetes': ['backup', 'remove', 'delete-crds', 'deploy', 'restore', 'restart', 'verify'],
  'helm manual openshift': [
    'backup',
    'remove',
    'delete-crds',
    'restart-unmeshed',
    'wait-sentinel',
    'deploy',
    'restore',
    'restart',
    'verify',
  ],
};

describe('buildPlan: every from/to pair x method x strategy x environment', () => {
  const versions = releases.map((r) => r.version);
  const supportedTo = new Set(releases.filter((r) => r.chartVersion).map((r) => r.version));
  for (const method of ['meshctl', 'helm'] as const)
    for (const strategy of ['auto', 'in-place', 'manual'] as const)
      for (const environment of ['kubernetes', 'openshift'] as const) {
        it(`${method} --strategy ${strategy} on ${environment}`, () => {
          let planned = 0;
          for (const from of versions)
            for (const to of versions) {
              const inst = install({
                version: from,
                method,
                environment,
                release: method === 'helm' ? 'nsm' : 'nginx-service-mesh',
              });
              const plan = buildPlan(inst, options({ to, strategy }));
              const where = `${from} -> ${to}`;
              if (!supportedTo.has(to)) {
                expect(ids(plan), where).toEqual(['unsupported-target']);
                continue;
              }
              if (compareVersions(from, '1.4.0') < 0) {
                expect(ids(plan), where).toEqual(['unsupported-source']);
                continue;
              }
              if (compareVersions(to, from) < 0) {
                expect(ids(plan), where).toEqual(['downgrade']);
                expect(plan.hops).toEqual([]);
                continue;
              }
              expect(
                plan.hops.map((h) => ({ from: h.from, to: h.to })),
                where,
              ).toEqual(hopsBetween(from, to));
              for (const hop of plan.hops) {
                const forced = environment === 'openshift' && crosses(hop, '1.7.0');
                const want = strategy === 'manual' || forced ? 'manual' : 'in-place';
                expect(hop.strategy, `${where} hop ${hop.index}`).toBe(want);
                expect(hop.method).toBe(method);
                expect(kinds(plan, hop.index - 1), `${where} hop ${hop.index}`).toEqual(
                  expectedKinds[`${method} ${want} ${environment}`],
                );
                expect(hop.steps.map((s) => s.id)).toEqual(hop.steps.map((s) => `hop${hop.index}.${s.kind}`));
                for (const s of hop.steps) {
                  for (const c of s.commands) {
                    if (method === 'meshctl')
                      expect(c.bin, `${where} ${s.id}`).toBe(
                        `/bin/nginx-meshctl-${s.kind === 'remove' ? hop.from : hop.to}`,
                      );
                    else expect(c.bin).toBe('/bin/helm');
                  }
                }
              }
              const inPlaceRefused =
                strategy === 'in-place' && environment === 'openshift' && plan.hops.some((h) => crosses(h, '1.7.0'));
              expect(ids(plan), where).toEqual(inPlaceRefused ? ['in-place-refused'] : []);
              if (plan.hops.length === 0) expect(plan.warnings.map((w) => w.id)).toContain('already-at-target');
              planned++;
            }
          expect(planned).toBe(18); // from 1.4.0..2.0.0 (6 versions) to 1.5.0..2.0.0, to >= from
        });
      }
});

describe('buildPlan: refusals name the fix', () => {
  it('a target below the installed version', () => {
    const p = buildPlan(install({ version: '1.7.0' }), options({ to: '1.6.0' }));
    expect(p.refusals).toEqual([
      {
        id: 'downgrade',
        message: '--to 1.6.0 is lower than the installed 1.7.0: NSM cannot be downgraded',
        fix: expect.stringContaining('--to 1.7.0 or later'),
      },
    ]);
  });
  it.each(['1.6.5', 'latest', '3.0.0'])('an unknown version %s', (to) => {
    const p = buildPlan(install(), options({ to }));
    expect(p.refusals[0]).toMatchObject({
      id: 'unknown-version',
      message: `--to ${to} is not an NGINX Service Mesh release`,
      fix: 'pass --to with one of: 1.5.0, 1.6.0, 1.7.0, 2.0.0',
    });
  });
  it('--strategy in-place for 1.6 -> 1.7 on OpenShift', () => {
    const p = buildPlan(install({ environment: 'openshift' }), options({ strategy: 'in-place' }));
    expect(p.refusals).toEqual([
      {
        id: 'in-place-refused',
        message: expect.stringMatching(
          /^hop 1 \(1\.6\.0 -> 1\.7\.0\): --strategy in-place is not possible here: on OpenShift/,
        ),
        fix: 'use --strategy manual (or leave --strategy out)',
      },
    ]);
  });
  it('a missing nginx-meshctl for a hop', () => {
    const p = buildPlan(install(), options({ meshctlBinaries: { '1.6.0': '/bin/old' } }));
    expect(p.refusals).toEqual([
      {
        id: 'meshctl-missing',
        message: 'hop 1 (1.6.0 -> 1.7.0) needs nginx-meshctl 1.7.0, which was not given and is not on PATH',
        fix: 'pass --meshctl PATH for 1.7.0 (or a directory containing nginx-meshctl-1.7.0 or 1.7.0/nginx-meshctl), or install nginx-meshctl 1.7.0 on PATH as nginx-meshctl-1.7.0, nginx-meshctl-v1.7.0 or nginx-meshctl',
      },
    ]);
  });
  it('a missing installed-version binary on the manual path names --meshctl-current', () => {
    const p = buildPlan(install(), options({ strategy: 'manual', meshctlBinaries: { '1.7.0': '/bin/new' } }));
    expect(p.refusals.map((r) => r.fix)).toEqual([
      'pass --meshctl-current PATH for 1.6.0 (or a directory containing nginx-meshctl-1.6.0 or 1.6.0/nginx-meshctl), or install nginx-meshctl 1.6.0 on PATH as nginx-meshctl-1.6.0, nginx-meshctl-v1.6.0 or nginx-meshctl',
    ]);
  });
  it('each missing binary once, even when two hops need it', () => {
    const p = buildPlan(
      install(),
      options({ to: '2.0.0', strategy: 'manual', meshctlBinaries: { '1.6.0': '/a', '2.0.0': '/c' } }),
    );
    expect(p.refusals.map((r) => r.fix)).toEqual([
      'pass --meshctl PATH for 1.7.0 (or a directory containing nginx-meshctl-1.7.0 or 1.7.0/nginx-meshctl), or install nginx-meshctl 1.7.0 on PATH as nginx-meshctl-1.7.0, nginx-meshctl-v1.7.0 or nginx-meshctl',
    ]);
  });
  it('helm install without a helm binary', () => {
    expect(ids(buildPlan(install({ method: 'helm', release: 'nsm' }), options({ helm: undefined })))).toEqual([
      'helm-missing',
    ]);
  });
  it('a single local chart for a two-hop plan', () => {
    const p = buildPlan(
      install({ method: 'helm', release: 'nsm' }),
      options({ to: '2.0.0', chart: { kind: 'path', path: './nsm-2.0.0.tgz', version: '2.0.0' } }),
    );
    expect(ids(p)).toEqual(['chart-single-version']);
  });
  it('an unknown deploy flag', () => {
    expect(ids(buildPlan(install(), options({ deployFlagChanges: { 'no-such': 'x' } })))).toEqual([
      'unknown-deploy-flag',
    ]);
  });
  it('a mesh older than 1.4', () => {
    expect(buildPlan(install({ version: '1.3.1' }), options({ to: '1.5.0' })).refusals[0]?.fix).toMatch(
      /upgrade to 1\.4\.0 first/,
    );
  });
  it('--strategy in-place with changed deploy settings', () => {
    expect(
      ids(buildPlan(install(), options({ strategy: 'in-place', deployFlagChanges: { 'mtls-mode': 'strict' } }))),
    ).toEqual(['in-place-refused']);
  });
});

describe('buildPlan: strategy, steps and commands', () => {
  it('a 1.6 -> 2.0 meshctl plan: two in-place hops with exact commands', () => {
    const p = buildPlan(install(), options({ to: '2.0.0' }));
    expect(p.hops.map((h) => [h.from, h.to, h.strategy])).toEqual([
      ['1.6.0', '1.7.0', 'in-place'],
      ['1.7.0', '2.0.0', 'in-place'],
    ]);
    expect(p.hops[1]!.steps.find((s) => s.kind === 'upgrade')!.commands).toEqual([
      {
        bin: '/bin/nginx-meshctl-2.0.0',
        args: ['-k', '/b/kubeconfig.private', '-n', 'nginx-mesh', '-t', '10m', 'upgrade', '--yes'],
        writes: true,
      },
    ]);
    expect(p.hops[0]!.steps[0]!.params).toEqual({ dir: '/b/hop1', namespace: 'nginx-mesh', meshVersion: '1.6.0' });
    expect(p.hops[1]!.steps.at(-1)!.params).toMatchObject({ version: '2.0.0', deployment: 'nginx-mesh-controller' });
  });
  it('changed deploy settings make the last hop manual and reach the deploy command', () => {
    const p = buildPlan(
      install({ values: { mtls: { mode: 'permissive' }, enableUDP: true } }),
      options({ to: '2.0.0', deployFlagChanges: { 'mtls-mode': 'strict' } }),
    );
    expect(p.hops.map((h) => h.strategy)).toEqual(['in-place', 'manual']);
    expect(p.hops[1]!.reason).toMatch(/deploy settings change \(--mtls-mode\)/);
    const deploy = p.hops[1]!.steps.find((s) => s.kind === 'deploy')!;
    expect(deploy.commands[0]!.args).toEqual([
      '-k',
      '/b/kubeconfig.private',
      '-n',
      'nginx-mesh',
      '-t',
      '10m',
      'deploy',
      '--enable-udp',
      '--mtls-mode',
      'strict',
    ]);
    expect(p.hops[1]!.steps.find((s) => s.kind === 'remove')!.commands[0]!.bin).toBe('/bin/nginx-meshctl-1.7.0');
  });
  it('helm in place: CRDs from the target chart first, then upgrade; a pinned image tag is moved along', () => {
    const p = buildPlan(
      install({ method: 'helm', release: 'nsm', values: { registry: { imageTag: '1.6.0' } } }),
      options({ helm: { bin: 'helm4', major: 4 } }),
    );
    const [, crds, up] = p.hops[0]!.steps;
    expect(crds!.commands).toEqual([
      { bin: 'helm4', args: ['show', 'crds', 'nginx-stable/nginx-service-mesh', '--version', '0.7.0'], writes: false },
    ]);
    expect(up!.commands[0]!.args).toEqual([
      'upgrade',
      'nsm',
      'nginx-stable/nginx-service-mesh',
      '--version',
      '0.7.0',
      '-n',
      'nginx-mesh',
      '--reset-then-reuse-values',
      '--set',
      'registry.imageTag=1.7.0',
      '--wait=watcher',
      '--timeout',
      '10m',
      '--rollback-on-failure',
      '--kubeconfig',
      '/b/kubeconfig.private',
      '--kube-context',
      'ctx',
    ]);
    expect(p.warnings.map((w) => w.message)).toContain(
      'the release pins registry.imageTag=1.6.0; the upgrade sets it to 1.7.0',
    );
  });
  it('helm manual from a versioned chart directory: uninstall, install with a values file translated for the target', () => {
    const p = buildPlan(
      install({
        method: 'helm',
        release: 'nsm',
        version: '1.7.0',
        values: { enabledNamespaces: ['a'], mtls: { mode: 'strict' } },
      }),
      options({ to: '2.0.0', strategy: 'manual', chart: { kind: 'versioned-dir', dir: '/charts' } }),
    );
    const steps = p.hops[0]!.steps;
    expect(steps.find((s) => s.kind === 'remove')!.commands[0]!.args).toEqual([
      'uninstall',
      'nsm',
      '-n',
      'nginx-mesh',
      '--wait',
      '--timeout',
      '10m',
      '--kubeconfig',
      '/b/kubeconfig.private',
      '--kube-context',
      'ctx',
    ]);
    const deploy = steps.find((s) => s.kind === 'deploy')!;
    expect(deploy.commands[0]!.args).toEqual([
      'install',
      'nsm',
      '/charts/2.0.0',
      '-n',
      'nginx-mesh',
      '--create-namespace',
      '-f',
      '/b/hop1/values-2.0.0.yaml',
      '--wait',
      '--timeout',
      '10m',
      '--kubeconfig',
      '/b/kubeconfig.private',
      '--kube-context',
      'ctx',
    ]);
    expect(deploy.kind === 'deploy' && deploy.params.files).toEqual([
      { path: '/b/hop1/values-2.0.0.yaml', content: { values: { mtls: { mode: 'strict' } } } },
    ]);
    expect(p.warnings.some((w) => w.id === 'carry-over' && /enabledNamespaces=\["a"\]/.test(w.message))).toBe(true);
  });
  it('OpenShift 1.6 -> 1.7 is manual with the reason, sentinel wait between remove and deploy', () => {
    const p = buildPlan(install({ environment: 'openshift' }), options());
    expect(p.hops[0]!.strategy).toBe('manual');
    expect(p.hops[0]!.reason).toMatch(/CSI driver was renamed/);
    expect(p.hops[0]!.steps.find((s) => s.kind === 'wait-sentinel')!.params).toEqual({
      namespace: 'nginx-mesh',
      job: 'csi-driver-sentinel',
    });
  });
});

describe('buildPlan: warnings from the version notes', () => {
  it('1.7 lists the tracing settings this install has', () => {
    const p = buildPlan(install({ values: { tracing: { backend: 'zipkin', address: 'zipkin.obs:9411' } } }), options());
    expect(p.warnings.find((w) => w.id === 'tracing-dropped')).toMatchObject({
      hop: 1,
      items: ['tracing.address="zipkin.obs:9411"', 'tracing.backend="zipkin"'],
    });
    expect(buildPlan(install(), options()).warnings.find((w) => w.id === 'tracing-dropped')).toBeUndefined();
  });
  it('2.0 opt-in lists the namespaces and offers --label-namespaces', () => {
    const p = buildPlan(
      install({ version: '1.7.0' }),
      options({ to: '2.0.0', unlabelledInjectedNamespaces: ['shop', 'web'] }),
    );
    const w = p.warnings.find((x) => x.id === 'auto-injection-opt-in')!;
    expect(w.items).toEqual(['shop', 'web']);
    expect(w.message).toMatch(/pass --label-namespaces/);
    expect(kinds(p)).not.toContain('label-namespaces');
  });
  it('--label-namespaces adds hopN.label-namespaces before the upgrade, only on the hop to 2.0', () => {
    const p = buildPlan(
      install(),
      options({ to: '2.0.0', labelNamespaces: true, unlabelledInjectedNamespaces: ['shop'] }),
    );
    expect(kinds(p, 0)).not.toContain('label-namespaces');
    expect(p.hops[1]!.steps.map((s) => s.id)).toEqual([
      'hop2.backup',
      'hop2.label-namespaces',
      'hop2.upgrade',
      'hop2.restart',
      'hop2.verify',
    ]);
    expect(p.hops[1]!.steps[1]!.params).toEqual({
      namespaces: ['shop'],
      label: { 'injector.nsm.nginx.com/auto-inject': 'enabled' },
    });
    expect(p.warnings.find((x) => x.id === 'auto-injection-opt-in')!.message).toMatch(
      /step hop2\.label-namespaces labels them/,
    );
  });
  it('1.5 warns about the bundled Prometheus/Grafana/tracing', () => {
    const p = buildPlan(install({ version: '1.4.1' }), options({ to: '1.5.0' }));
    expect(p.warnings.map((w) => w.id)).toEqual(['bundled-observability-removed', 'httproutegroup-headers-object']);
  });
  it('later hops see the values an earlier redeploy carried (1.7 keeps OpenTracing, deprecated: 2.0 reports it after a 1.7 redeploy too)', () => {
    const values = { tracing: { backend: 'zipkin' } };
    const removed = (p: Plan) => p.warnings.find((w) => w.id === 'deploy-flags-removed');
    expect(removed(buildPlan(install({ values }), options({ to: '2.0.0' })))?.items).toEqual([
      'tracing.backend="zipkin"',
    ]);
    expect(removed(buildPlan(install({ values, environment: 'openshift' }), options({ to: '2.0.0' })))?.items).toEqual([
      'tracing.backend="zipkin"',
    ]);
  });
  it('detection doubts are carried as warnings', () => {
    expect(buildPlan(install({ warnings: ['something odd'] }), options()).warnings[0]).toEqual({
      id: 'detect',
      hop: undefined,
      message: 'something odd',
      items: [],
    });
  });
});

describe('buildPlan is pure', () => {
  it('same input, same plan; the input is not changed', () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') {
        Object.values(o).forEach(deepFreeze);
        Object.freeze(o);
      }
      return o;
    };
    const inst = deepFreeze(
      install({
        method: 'helm',
        release: 'nsm',
        values: { tracing: { backend: 'x' }, registry: { imageTag: '1.6.0' } },
      }),
    );
    const opts = deepFreeze(
      options({ to: '2.0.0', strategy: 'manual', unlabelledInjectedNamespaces: ['a'], labelNamespaces: true }),
    );
    expect(buildPlan(inst, opts)).toEqual(buildPlan(inst, opts));
  });
});
