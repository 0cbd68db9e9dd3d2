/** --context with nginx-meshctl (which has no --context flag): a private kubeconfig, in the plan and on disk. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { retargetKubeconfig } from '../../../src/upgrade/retarget.ts';
import { childKubeconfigPath, withChildKubeconfig } from '../../../src/upgrade/child-kubeconfig.ts';
import { minifiedKubeconfig } from '../../../src/kube/kubeconfig.ts';
import type { Install, PlanOptions } from '../../../src/upgrade/types.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-child-kc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const install: Install = { namespace: 'nginx-mesh', version: '1.6.0', method: 'meshctl', release: 'nginx-service-mesh', releaseRevision: 1, releaseStatus: 'deployed', releaseStuck: false, chartVersion: '0.6.0', environment: 'kubernetes', values: {}, controlPlane: undefined, warnings: [] };
const opts: PlanOptions = { to: '1.7.0', strategy: 'manual', meshctlBinaries: { '1.6.0': '/m/1.6.0', '1.7.0': '/m/1.7.0' }, helm: undefined, chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' }, deployFlagChanges: {}, labelNamespaces: false, unlabelledInjectedNamespaces: [], backupDir: '/b', timeout: '5m', kubeconfig: '/home/me/.kube/config', context: 'prod' };

describe('the plan with --context and nginx-meshctl', () => {
  it('points every nginx-meshctl command at the private kubeconfig in the backup directory', () => {
    const plan = buildPlan(install, opts);
    expect(plan.childKubeconfig).toEqual({ path: '/b/kubeconfig.nginx-meshctl', context: 'prod', kubeconfig: '/home/me/.kube/config' });
    const cmds = plan.hops.flatMap((h) => h.steps.flatMap((s) => s.commands));
    expect(cmds.length).toBeGreaterThan(1);
    for (const c of cmds) expect(c.args.slice(0, 2)).toEqual(['-k', '/b/kubeconfig.nginx-meshctl']);
  });

  it('needs none without --context', () => {
    const plan = buildPlan(install, { ...opts, context: undefined });
    expect(plan.childKubeconfig).toBeUndefined();
    for (const c of plan.hops.flatMap((h) => h.steps.flatMap((s) => s.commands))) expect(c.args.slice(0, 2)).toEqual(['-k', '/home/me/.kube/config']);
  });

  it('on --resume with another --kubeconfig, keeps the private file and rewrites it from the new one', () => {
    const plan = retargetKubeconfig(buildPlan(install, opts), '/new/config');
    expect(plan.childKubeconfig?.kubeconfig).toBe('/new/config');
    for (const c of plan.hops.flatMap((h) => h.steps.flatMap((s) => s.commands))) expect(c.args.slice(0, 2)).toEqual(['-k', '/b/kubeconfig.nginx-meshctl']);
  });
});

describe('the private kubeconfig on disk', () => {
  const source = path.join(tmp, 'config');
  fs.mkdirSync(path.join(tmp, 'certs'));
  fs.writeFileSync(source, [
    'apiVersion: v1', 'kind: Config', 'current-context: dev',
    'clusters:', '- name: dev-c', '  cluster: {server: "https://dev:6443", certificate-authority: certs/dev-ca.crt}', '- name: prod-c', '  cluster: {server: "https://prod:6443", certificate-authority: certs/prod-ca.crt}',
    'users:', '- name: dev-u', '  user: {token: dev-token}', '- name: prod-u', '  user: {token: prod-token}',
    'contexts:', '- name: dev', '  context: {cluster: dev-c, user: dev-u}', '- name: prod', '  context: {cluster: prod-c, user: prod-u}', '',
  ].join('\n'));

  it('holds only the chosen context, its cluster and user, with absolute paths', () => {
    const kc = JSON.parse(minifiedKubeconfig({ kubeconfig: source, context: 'prod' })) as { 'current-context': string; clusters: { name: string; cluster: { server: string; 'certificate-authority'?: string } }[]; users: { name: string }[]; contexts: { name: string }[] };
    expect(kc['current-context']).toBe('prod');
    expect(kc.contexts.map((c) => c.name)).toEqual(['prod']);
    expect(kc.users.map((u) => u.name)).toEqual(['prod-u']);
    expect(kc.clusters.map((c) => [c.name, c.cluster.server, c.cluster['certificate-authority']])).toEqual([['prod-c', 'https://prod:6443', path.join(tmp, 'certs/prod-ca.crt')]]);
  });

  it('is written 0600 for the run and removed after it, even when the run fails', async () => {
    const backupDir = path.join(tmp, 'run');
    const plan = { childKubeconfig: { path: childKubeconfigPath(backupDir), context: 'prod', kubeconfig: source } };
    let mode = 0;
    await expect(withChildKubeconfig({ fs: fsp }, plan, async () => { mode = fs.statSync(plan.childKubeconfig.path).mode & 0o777; throw new Error('step failed'); })).rejects.toThrow('step failed');
    expect(mode).toBe(0o600);
    expect(fs.existsSync(plan.childKubeconfig.path)).toBe(false);
    expect(fs.existsSync(backupDir)).toBe(false); // made only for the file, so removed with it
  });
});
