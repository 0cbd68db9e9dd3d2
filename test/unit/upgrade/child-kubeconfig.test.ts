/**
 * Issue 23: every helm and nginx-meshctl command gets a private kubeconfig of exactly the run's
 * context, with or without --context, made from the kubeconfig as the tool loaded it at start.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { childKubeconfigPath, withChildKubeconfig } from '../../../src/engine/child-kubeconfig.ts';
import { loadKubeConfig, minifiedKubeconfig } from '../../../src/kube/kubeconfig.ts';
import { createKube } from '../../../src/kube/client.ts';
import { heldPrivateFiles } from '../../../src/private-files.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-child-kc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

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
  controlPlane: undefined,
  warnings: [],
};
const opts: PlanOptions = {
  to: '1.7.0',
  strategy: 'manual',
  meshctlBinaries: { '1.6.0': '/m/1.6.0', '1.7.0': '/m/1.7.0' },
  helm: undefined,
  chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
  deployFlagChanges: {},
  labelNamespaces: false,
  unlabelledInjectedNamespaces: [],
  backupDir: '/b',
  timeout: '5m',
  context: 'prod',
};
const commands = (p: ReturnType<typeof buildPlan>) =>
  p.hops.flatMap((h) => h.steps.flatMap((s) => [...s.commands, ...(s.kind === 'deploy' ? [s.params.undo] : [])]));

describe("the plan pins every child command to the run's context", () => {
  it('nginx-meshctl: every command reads the private kubeconfig in the backup directory', () => {
    const plan = buildPlan(install, opts);
    expect(plan.childKubeconfig).toEqual({ path: '/b/kubeconfig.private', context: 'prod' });
    const cmds = commands(plan);
    expect(cmds.length).toBeGreaterThan(2);
    for (const c of cmds) expect(c.args.slice(0, 2)).toEqual(['-k', '/b/kubeconfig.private']);
  });

  it('helm: every command gets --kubeconfig <private> --kube-context <context>', () => {
    const plan = buildPlan(
      { ...install, method: 'helm', release: 'nsm' },
      { ...opts, helm: { bin: '/h/helm', major: 3 } },
    );
    const cmds = commands(plan).filter((c) => c.writes);
    expect(cmds.map((c) => c.args[0])).toEqual(['uninstall', 'install', 'uninstall']);
    for (const c of cmds)
      expect(c.args.slice(-4)).toEqual(['--kubeconfig', '/b/kubeconfig.private', '--kube-context', 'prod']);
    expect(plan.childKubeconfig).toEqual({ path: '/b/kubeconfig.private', context: 'prod' });
  });

  it('a plan with no command needs none', () => {
    expect(buildPlan(install, { ...opts, to: '1.6.0' }).childKubeconfig).toBeUndefined();
  });
});

describe('the private kubeconfig on disk', () => {
  const source = path.join(tmp, 'config');
  fs.mkdirSync(path.join(tmp, 'certs'));
  const write = (prodServer: string, current: string) =>
    fs.writeFileSync(
      source,
      [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${current}`,
        'clusters:',
        '- name: dev-c',
        '  cluster: {server: "https://dev:6443", insecure-skip-tls-verify: true}',
        `- name: prod-c`,
        `  cluster: {server: "${prodServer}", insecure-skip-tls-verify: true}`,
        'users:',
        '- name: dev-u',
        '  user: {token: dev-token}',
        '- name: prod-u',
        '  user: {token: prod-token}',
        'contexts:',
        '- name: dev',
        '  context: {cluster: dev-c, user: dev-u}',
        '- name: prod',
        '  context: {cluster: prod-c, user: prod-u}',
        '',
      ].join('\n'),
    );

  it('holds only the chosen context, its cluster and user', () => {
    write('https://prod:6443', 'dev');
    const kc = JSON.parse(minifiedKubeconfig(loadKubeConfig({ kubeconfig: source, context: 'prod' }))) as {
      'current-context': string;
      clusters: { name: string; cluster: { server: string } }[];
      users: { name: string }[];
      contexts: { name: string }[];
    };
    expect(kc['current-context']).toBe('prod');
    expect(kc.contexts.map((c) => c.name)).toEqual(['prod']);
    expect(kc.users.map((u) => u.name)).toEqual(['prod-u']);
    expect(kc.clusters.map((c) => [c.name, c.cluster.server])).toEqual([['prod-c', 'https://prod:6443']]);
  });

  it('is the kubeconfig as loaded at start: a file edited and a context switched since do not reach it', async () => {
    write('https://prod:6443', 'prod'); // no --context: the current context at start
    const kube = await createKube(loadKubeConfig({ kubeconfig: source }));
    write('https://elsewhere:6443', 'dev'); // another shell, minutes later
    const backupDir = path.join(tmp, 'run-edited');
    const plan = { childKubeconfig: { path: childKubeconfigPath(backupDir), context: 'prod' } };
    const written = await withChildKubeconfig(
      { fs: fsp, kube },
      plan,
      async () =>
        JSON.parse(fs.readFileSync(plan.childKubeconfig.path, 'utf8')) as {
          'current-context': string;
          clusters: { cluster: { server: string } }[];
        },
    );
    expect(written['current-context']).toBe('prod');
    expect(written.clusters.map((c) => c.cluster.server)).toEqual(['https://prod:6443']);
  });

  it('is written 0600 for the run and removed after it, even when the run fails; held for the second Ctrl-C meanwhile', async () => {
    write('https://prod:6443', 'dev');
    const kube = await createKube(loadKubeConfig({ kubeconfig: source, context: 'prod' }));
    const backupDir = path.join(tmp, 'run');
    const plan = { childKubeconfig: { path: childKubeconfigPath(backupDir), context: 'prod' } };
    let mode = 0;
    let held: string[] = [];
    await expect(
      withChildKubeconfig({ fs: fsp, kube }, plan, async () => {
        mode = fs.statSync(plan.childKubeconfig.path).mode & 0o777;
        held = heldPrivateFiles();
        throw new Error('step failed');
      }),
    ).rejects.toThrow('step failed');
    expect(mode).toBe(0o600);
    expect(held).toEqual([plan.childKubeconfig.path]);
    expect(heldPrivateFiles()).toEqual([]);
    expect(fs.existsSync(plan.childKubeconfig.path)).toBe(false);
    expect(fs.existsSync(backupDir)).toBe(false); // made only for the file, so removed with it
  });

  it('refuses a plan made for another context than the one the tool was started on', async () => {
    write('https://prod:6443', 'dev');
    const kube = await createKube(loadKubeConfig({ kubeconfig: source }));
    const plan = { childKubeconfig: { path: childKubeconfigPath(path.join(tmp, 'run-other')), context: 'prod' } };
    await expect(withChildKubeconfig({ fs: fsp, kube }, plan, async () => 'ran')).rejects.toThrow(
      'the run acts on context "prod", but the tool was started on context "dev"',
    );
  });
});
