import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/engine/types.ts';
import { clusterEnv, escapeRegExp, kubectl, repoRoot, runTool, testKube, uniqueName } from '../support/cluster.ts';
import { dropNamespace, plantMesh } from './detect-plant.ts';

const meshctlDir = path.join(repoRoot, 'test/fixtures/meshctl');
const chartsDir = path.join(repoRoot, 'test/fixtures/charts/nginx-service-mesh');
const mesh = uniqueName('plan-mesh');
const helmMesh = uniqueName('plan-helm');
const app = uniqueName('plan-app');

beforeAll(async () => {
  await plantMesh(mesh, {
    version: '1.6.0',
    releases: [{ config: { environment: 'kubernetes', tracing: { backend: 'zipkin', address: 'zipkin.obs:9411' } } }],
  });
  await plantMesh(helmMesh, { version: '1.6.0', releases: [{ name: 'nsm', config: { mtls: { mode: 'strict' } } }] });
  // An injected workload in a namespace without the 2.0 opt-in label.
  await kubectl(['create', 'namespace', app]);
  // Pods need the namespace's default ServiceAccount, which the controller-manager creates shortly after.
  for (
    let i = 0;
    i < 100 && (await kubectl(['get', 'serviceaccount', 'default', '-n', app], { reject: false })).exitCode !== 0;
    i++
  )
    await new Promise((r) => setTimeout(r, 200));
  await (
    await testKube()
  ).request({
    method: 'POST',
    path: `/api/v1/namespaces/${app}/pods`,
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web',
        labels: { 'spiffe.io/spiffeid': 'true' },
        annotations: { 'injector.nsm.nginx.com/status': 'injected' },
      },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.25' },
          { name: 'nginx-mesh-sidecar', image: 'docker-registry.nginx.com/nsm/nginx-mesh-sidecar:1.6.0' },
        ],
      },
    },
  });
});
afterAll(async () => {
  for (const ns of [mesh, helmMesh, app]) await dropNamespace(ns);
});

const plan = (args: string[]) => runTool(['plan', ...args]);

describe('kubectl nsm-upgrade plan', () => {
  it('-o json: two in-place hops with the stand-ins found by version in --meshctl DIR, and the warnings', async () => {
    const r = await plan([
      '--to',
      '2.0.0',
      '--mesh-namespace',
      mesh,
      '--meshctl',
      meshctlDir,
      '--backup-dir',
      '/tmp/b',
      '-o',
      'json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const p = JSON.parse(r.stdout) as Plan;
    expect(p).toMatchObject({
      from: '1.6.0',
      to: '2.0.0',
      namespace: mesh,
      method: 'meshctl',
      release: 'nginx-service-mesh',
      refusals: [],
    });
    expect(p.hops.map((h) => `${h.from}->${h.to} ${h.strategy}`)).toEqual([
      '1.6.0->1.7.0 in-place',
      '1.7.0->2.0.0 in-place',
    ]);
    expect(p.hops[0]!.steps.find((s) => s.id === 'hop1.upgrade')!.commands).toEqual([
      {
        bin: path.join(meshctlDir, '1.7.0/nginx-meshctl'),
        args: ['-k', '/tmp/b/kubeconfig.private', '-n', mesh, '-t', '10m', 'upgrade', '--yes'],
        writes: true,
      },
    ]);
    // Every child gets the run's private kubeconfig of the context read at start (issue 23).
    expect(p.childKubeconfig).toEqual({ path: '/tmp/b/kubeconfig.private', context: 'nsm-local' });
    expect(p.warnings.find((w) => w.id === 'tracing-dropped')!.items).toEqual([
      'tracing.address="zipkin.obs:9411"',
      'tracing.backend="zipkin"',
    ]);
    expect(p.warnings.find((w) => w.id === 'auto-injection-opt-in')!.items).toContain(app);
  });

  it('text: hops, strategy and reason, steps with commands; --label-namespaces adds the label step', async () => {
    const r = await plan([
      '--to',
      '2.0.0',
      '--mesh-namespace',
      mesh,
      '--meshctl',
      meshctlDir,
      '--label-namespaces',
      '--timeout',
      '5m',
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Upgrade plan: NGINX Service Mesh 1.6.0 -> 2.0.0`);
    expect(r.stdout).toMatch(/Hop 1: 1\.6\.0 -> 1\.7\.0, in-place \(in place by default/);
    expect(r.stdout).toMatch(
      new RegExp(
        `\\$ ${escapeRegExp(path.join(meshctlDir, '2.0.0/nginx-meshctl'))} -k nsm-backup-\\d{8}T\\d{6}Z/kubeconfig\\.private -n ${mesh} -t 5m upgrade --yes`,
      ),
    );
    expect(r.stdout).toMatch(
      /hop2\.label-namespaces\s+Label \d+ namespace\(s\) injector\.nsm\.nginx\.com\/auto-inject=enabled/,
    );
    expect(r.stdout).toMatch(/Warnings:\n[\s\S]*step hop2\.label-namespaces labels them/);
  });

  it('-o yaml carries the same plan as -o json', async () => {
    const args = [
      '--to',
      '1.7.0',
      '--mesh-namespace',
      mesh,
      '--meshctl',
      meshctlDir,
      '--strategy',
      'manual',
      '--backup-dir',
      '/tmp/b',
    ];
    const [y, j] = await Promise.all([plan([...args, '-o', 'yaml']), plan([...args, '-o', 'json'])]);
    expect(y.exitCode).toBe(0);
    expect(load(y.stdout)).toEqual(JSON.parse(j.stdout));
    const p = JSON.parse(j.stdout) as Plan;
    expect(p.hops[0]!.steps.map((s) => s.kind)).toEqual(['backup', 'remove', 'deploy', 'restore', 'restart', 'verify']);
    expect(p.hops[0]!.steps[1]!.commands[0]!.bin).toBe(path.join(meshctlDir, '1.6.0/nginx-meshctl'));
  });

  it('a missing nginx-meshctl: prints the plan with the refusal and its fix, exit 2', async () => {
    const r = await plan(['--to', '1.7.0', '--mesh-namespace', mesh]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain(
      'fix: pass --meshctl PATH for 1.7.0 (or a directory containing nginx-meshctl-1.7.0 or 1.7.0/nginx-meshctl)',
    );
    expect(r.stderr).toMatch(/^error: the plan is refused/);
  });

  it('--strategy in-place with a changed deploy flag is refused with the fix', async () => {
    const r = await plan([
      '--to',
      '1.7.0',
      '--mesh-namespace',
      mesh,
      '--meshctl',
      meshctlDir,
      '--strategy',
      'in-place',
      '--deploy-flag',
      'mtls-mode=strict',
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain('fix: use --strategy manual (or leave --strategy out), or drop --deploy-flag');
  });

  const helm4 = clusterEnv().HELM4;
  it('a helm install with Helm 4 and the fixture chart directory', async (ctx) => {
    ctx.skip(!helm4, '.cluster/env has no HELM4 (npm run cluster:up unpacks Helm 4)');
    const r = await plan([
      '--to',
      '1.7.0',
      '--mesh-namespace',
      helmMesh,
      '--helm',
      helm4!,
      '--chart',
      chartsDir,
      '-o',
      'json',
    ]);
    expect(r.exitCode).toBe(0);
    const p = JSON.parse(r.stdout) as Plan;
    expect(p).toMatchObject({ method: 'helm', release: 'nsm' });
    const [, crds, up] = p.hops[0]!.steps;
    expect(crds!.commands[0]!.args).toEqual(['show', 'crds', path.join(chartsDir, '1.7.0')]);
    expect(up!.commands[0]!.args).toEqual([
      'upgrade',
      'nsm',
      path.join(chartsDir, '1.7.0'),
      '-n',
      helmMesh,
      '--reset-then-reuse-values',
      '--wait=watcher',
      '--timeout',
      '10m',
      '--rollback-on-failure',
      '--kubeconfig',
      p.childKubeconfig!.path,
      '--kube-context',
      'nsm-local',
    ]);
  });

  it('no mesh in the namespace: exit 2 naming --mesh-namespace', async () => {
    const r = await plan(['--to', '1.7.0', '--mesh-namespace', uniqueName('plan-none')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no NGINX Service Mesh found in namespace "plan-none-[^"]+"/);
    expect(r.stderr).toContain('--mesh-namespace');
  });

  it('usage errors: no --to, an unknown output format', async () => {
    expect((await plan(['--mesh-namespace', mesh])).stderr).toMatch(/Pass --to VERSION/);
    const r = await plan(['--to', '1.7.0', '--mesh-namespace', mesh, '-o', 'table']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Use -o text\|json\|yaml/);
  });
});
