import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { detectInstall } from '../../src/mesh/detect.ts';
import { buildPlan } from '../../src/upgrade/plan.ts';
import { assertPreflight, preflightChecks as checksOnly, type PreflightInput } from '../../src/preflight/preflight.ts';
import { withChildKubeconfig } from '../../src/engine/child-kubeconfig.ts';
import { PreflightError } from '../../src/errors.ts';
import { createKube } from '../../src/kube/client.ts';
import type { Deps } from '../../src/deps.ts';
import type { PlanOptions } from '../../src/engine/types.ts';
import {
  clusterEnv,
  kubeconfigPath,
  kubectl,
  repoRoot,
  runTool,
  testDeps,
  testKube,
  uniqueName,
} from '../support/cluster.ts';
import { deploymentManifest, dropNamespace, plantMesh, waitAvailable } from './detect-plant.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-preflight-'));
const helpFixtures = path.join(repoRoot, 'test/fixtures/meshctl-help/1.7.0');
/**
 * A stand-in that answers `version` (as nginx-meshctl does on its first line) and `<command> --help`
 * with the real 1.7.0 binary's captured help, less the flags in `lacks`; it has no hidden --dry-run.
 */
function fakeMeshctl(name: string, says: string, lacks: readonly string[] = []): string {
  const p = path.join(tmp, name);
  const helpDir = path.join(tmp, `${name}.help`);
  fs.mkdirSync(helpDir, { recursive: true });
  for (const c of ['deploy', 'upgrade', 'remove']) {
    const lines = fs
      .readFileSync(path.join(helpFixtures, `${c}.txt`), 'utf8')
      .split('\n')
      .filter((l) => !lacks.some((f) => l.includes(`--${f} `)));
    fs.writeFileSync(path.join(helpDir, `${c}.txt`), lines.join('\n'));
  }
  fs.writeFileSync(
    p,
    [
      '#!/bin/sh',
      'for a in "$@"; do [ "$a" = --dry-run ] && { echo "Error: unknown flag: --dry-run" >&2; exit 1; }; done',
      `if [ "$1" = version ]; then echo "nginx-meshctl - v${says}"; echo "nginx-mesh-api - unknown"; exit 0; fi`,
      `if [ "$2" = --help ] && [ -f "${helpDir}/$1.txt" ]; then cat "${helpDir}/$1.txt"; exit 0; fi`,
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return p;
}

/** Preflight as the CLI runs it: with the plan's private kubeconfig written for its commands (by `writer`, whose context the plan has). */
const preflightChecks = async (deps: Deps, input: PreflightInput, writer: Deps = deps) =>
  withChildKubeconfig(writer, input.plan, () => checksOnly(deps, input));

const good = uniqueName('pf-good');
const bad = uniqueName('pf-bad');
afterAll(async () => {
  for (const ns of [good, bad]) await dropNamespace(ns);
  fs.rmSync(tmp, { recursive: true, force: true });
});

beforeAll(async () => {
  await plantMesh(good, { version: '1.6.0', releases: [{ revision: 1 }] });
  await plantMesh(bad, { version: '1.6.0', releases: [{ revision: 2, status: 'pending-upgrade' }] });
  // A second Deployment that never becomes available: its pod fits no node.
  const stuck = deploymentManifest(bad, 'nginx-mesh-metrics', '1.6.0');
  (stuck.spec.template.spec as Record<string, unknown>).nodeSelector = { 'nsm-upgrade-test/no-such-node': 'true' };
  await (
    await testKube()
  ).request({ method: 'POST', path: `/apis/apps/v1/namespaces/${bad}/deployments`, body: stuck });
  await waitAvailable(good);
});

async function opts(over: Partial<PlanOptions>): Promise<PlanOptions> {
  return {
    to: '1.7.0',
    strategy: 'auto',
    meshctlBinaries: {},
    helm: undefined,
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: path.join(tmp, 'backup'),
    timeout: '5m',
    context: (await testKube()).context,
    ...over,
  };
}

async function planFor(deps: Deps, ns: string, over: Partial<PlanOptions>) {
  const install = await detectInstall(deps, { meshNamespace: ns });
  return { install, plan: buildPlan(install, await opts(over)) };
}

describe('preflight on the real API server', () => {
  it('passes for a healthy mesh, the right binary, and a free backup directory', async () => {
    const deps = await testDeps();
    const { install, plan } = await planFor(deps, good, {
      meshctlBinaries: { '1.7.0': fakeMeshctl('ok-1.7.0', '1.7.0') },
    });
    expect(plan.refusals).toEqual([]);
    expect(await preflightChecks(deps, { plan, install, backupDir: path.join(tmp, 'fresh') })).toEqual([]);
  });

  it('lists every failure with its fix, and assertPreflight throws PreflightError (exit 3)', async () => {
    const deps = await testDeps();
    const used = path.join(tmp, 'used');
    fs.mkdirSync(used);
    fs.writeFileSync(path.join(used, 'manifest.json'), '{}');
    const { install, plan } = await planFor(deps, bad, {
      strategy: 'manual',
      meshctlBinaries: { '1.6.0': path.join(tmp, 'missing-nginx-meshctl'), '1.7.0': fakeMeshctl('wrong', '1.6.0') },
    });
    const failures = await preflightChecks(deps, { plan, install, backupDir: used });
    const by = (check: string) => failures.filter((f) => f.check === check);
    expect(by('binaries').map((f) => f.message)).toEqual([
      expect.stringMatching(/missing-nginx-meshctl \(needed by hop1\.remove\) cannot run/),
      expect.stringMatching(/wrong is nginx-meshctl 1\.6\.0, but hop1\.deploy need 1\.7\.0/),
    ]);
    expect(by('binaries').map((f) => f.fix)).toEqual([
      expect.stringMatching(/^pass --meshctl-current PATH/),
      expect.stringMatching(/^pass --meshctl PATH to nginx-meshctl 1\.7\.0/),
    ]);
    expect(by('release')).toEqual([
      {
        check: 'release',
        message: expect.stringMatching(/nginx-service-mesh .* is pending-upgrade \(revision 2\)/),
        fix: expect.stringMatching(/helm rollback nginx-service-mesh -n /),
      },
    ]);
    expect(by('control-plane').map((f) => f.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Deployments mid-rollout in .*nginx-mesh-metrics/),
        expect.stringMatching(/pods not ready in .*nginx-mesh-metrics-/),
      ]),
    );
    expect(by('backup-dir')).toEqual([
      {
        check: 'backup-dir',
        message: `--backup-dir ${used} is not empty`,
        fix: expect.stringMatching(/--backup-dir .*--resume DIR/),
      },
    ]);
    expect(by('permissions')).toEqual([]);
    for (const f of failures) expect(f.fix.length).toBeGreaterThan(10);
    const err = await withChildKubeconfig(deps, plan, () =>
      assertPreflight(deps, { plan, install, backupDir: used }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect((err as PreflightError).exitCode).toBe(3);
    expect((err as PreflightError).failures.length).toBe(failures.length);
    // A resumed run may reuse its own backup directory.
    expect(
      (await preflightChecks(deps, { plan, install, backupDir: used, resume: true })).some(
        (f) => f.check === 'backup-dir',
      ),
    ).toBe(false);
  });

  it('refuses a plan whose deploy passes a flag the target binary lacks: exit 3 through the CLI, naming the flag and the binary; nothing removed', async () => {
    const target = fakeMeshctl('old-build-1.7.0', '1.7.0', ['mtls-mode']);
    const current = fakeMeshctl('cur-1.6.0', '1.6.0');
    const backupDir = path.join(tmp, 'flag-refused');
    const r = await runTool([
      '--to',
      '1.7.0',
      '--mesh-namespace',
      good,
      '--meshctl',
      target,
      '--meshctl-current',
      current,
      '--deploy-flag',
      'mtls-mode=strict',
      '--backup-dir',
      backupDir,
      '--yes',
    ]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`but ${target} (nginx-meshctl 1.7.0) has no deploy flag --mtls-mode`);
    expect(r.stderr).toMatch(/nothing was removed/);
    // Nothing ran: the mesh is as it was and no backup was written.
    expect((await detectInstall(await testDeps(), { meshNamespace: good })).version).toBe('1.6.0');
    expect(fs.existsSync(path.join(backupDir, 'manifest.json'))).toBe(false);
  });

  it("refuses (check cluster) when a command's own kubeconfig would reach another server than the one the tool read", async () => {
    const deps = await testDeps();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath());
    kc.setCurrentContext(deps.kube.context);
    const cluster = kc.getCurrentCluster()!;
    kc.loadFromOptions({
      clusters: [{ ...cluster, server: 'https://127.0.0.1:1' }],
      users: kc.getUsers(),
      contexts: kc.getContexts(),
      currentContext: kc.getCurrentContext(),
    });
    const { install, plan } = await planFor(deps, good, {
      meshctlBinaries: { '1.7.0': fakeMeshctl('ok-elsewhere', '1.7.0') },
      backupDir: path.join(tmp, 'elsewhere'),
    });
    // The private kubeconfig the commands read, as if it had been changed under the run.
    fs.mkdirSync(path.dirname(plan.childKubeconfig!.path), { recursive: true });
    fs.writeFileSync(plan.childKubeconfig!.path, kc.exportConfig(), { mode: 0o600 });
    const failures = await checksOnly(deps, { plan, install, backupDir: path.join(tmp, 'free-3') });
    expect(failures.filter((f) => f.check === 'cluster').map((f) => f.message)).toEqual([
      `hop1.upgrade's command would reach https://127.0.0.1:1, but the tool read the cluster at ${deps.kube.server}`,
    ]);
  });

  it('checks the helm binary: Helm 4 passes, a missing one names --helm', async () => {
    const deps = await testDeps();
    const helm4 = clusterEnv().HELM4;
    const ns = uniqueName('pf-helm');
    await plantMesh(ns, { version: '1.6.0', releases: [{ name: 'nsm' }] });
    try {
      await waitAvailable(ns);
      if (helm4) {
        const ok = await planFor(deps, ns, {
          helm: { bin: helm4, major: 4 },
          chart: { kind: 'versioned-dir', dir: path.join(repoRoot, 'test/fixtures/charts/nginx-service-mesh') },
        });
        expect(
          await preflightChecks(deps, { plan: ok.plan, install: ok.install, backupDir: path.join(tmp, 'h4') }),
        ).toEqual([]);
      }
      if (helm4) {
        const norepo = await planFor(deps, ns, {
          helm: { bin: helm4, major: 4 },
          chart: { kind: 'repo', ref: 'no-such-repo-xyz/nginx-service-mesh' },
        });
        const f = await preflightChecks(deps, {
          plan: norepo.plan,
          install: norepo.install,
          backupDir: path.join(tmp, 'h4b'),
        });
        expect(f).toEqual([
          expect.objectContaining({
            check: 'chart',
            message: expect.stringMatching(
              /chart no-such-repo-xyz\/nginx-service-mesh version 0\.7\.0 \(needed by hop1\.upgrade\) cannot be fetched/,
            ),
            fix: expect.stringMatching(/helm repo add no-such-repo-xyz URL/),
          }),
        ]);
      }
      const missing = await planFor(deps, ns, { helm: { bin: path.join(tmp, 'no-helm'), major: 3 } });
      const failures = await preflightChecks(deps, {
        plan: missing.plan,
        install: missing.install,
        backupDir: path.join(tmp, 'h3'),
      });
      expect(failures).toEqual([
        expect.objectContaining({ check: 'binaries', fix: 'pass --helm PATH to a working helm' }),
      ]);
    } finally {
      await dropNamespace(ns);
    }
  });

  it('a user without the permissions gets one failure per missing permission, naming the steps', async () => {
    const ns = good;
    await kubectl(['create', 'serviceaccount', 'viewer', '-n', ns]);
    await kubectl([
      'create',
      'rolebinding',
      'viewer-view',
      '--clusterrole=view',
      `--serviceaccount=${ns}:viewer`,
      '-n',
      ns,
    ]);
    const token = (await kubectl(['create', 'token', 'viewer', '-n', ns, '--duration=10m'])).stdout.trim();
    const admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath());
    const cluster = admin.getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'viewer', token }],
      contexts: [{ name: 'viewer', cluster: cluster.name, user: 'viewer' }],
      currentContext: 'viewer',
    });
    const adminDeps = await testDeps();
    const deps: Deps = { ...adminDeps, kube: await createKube(kc) };
    const { install, plan } = await planFor(adminDeps, ns, {
      meshctlBinaries: { '1.7.0': fakeMeshctl('ok2-1.7.0', '1.7.0') },
    });
    const failures = (
      await preflightChecks(deps, { plan, install, backupDir: path.join(tmp, 'perm') }, adminDeps)
    ).filter((f) => f.check === 'permissions');
    expect(failures.length).toBeGreaterThan(5);
    expect(failures.map((f) => f.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^not allowed to update deployments\.apps in namespace .*: needed to helm\/nginx-meshctl upgrade the control plane \(hop1\.upgrade\)/,
        ),
        expect.stringMatching(/^not allowed to patch customresourcedefinitions\.apiextensions\.k8s\.io/),
      ]),
    );
    expect(failures.every((f) => /cluster-admin/.test(f.fix))).toBe(true);
    // The view role may read the mesh namespace: those checks pass (the restart record's ConfigMap in `default` is another namespace).
    expect(failures.some((f) => f.message.includes(`get configmaps in namespace ${ns}:`))).toBe(false);
  });
});
