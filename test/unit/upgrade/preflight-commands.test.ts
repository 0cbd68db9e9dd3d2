/**
 * Preflight against the binary that will run each command: a plan whose deploy passes a flag the
 * target nginx-meshctl lacks is refused before anything is removed (the measured failure: remove
 * ran, then deploy stopped on `unknown flag: --pull-policy`). The binaries are faked with the
 * captured --help of the real ones.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command, CommandResult } from '../../../src/exec/runner.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import {
  checkDryRuns,
  checkPlannedFlags,
  judgeDryRun,
  plannedMeshctlCommands,
  withDryRun,
} from '../../../src/preflight/commands.ts';
import type { Install, Plan, PlanOptions } from '../../../src/engine/types.ts';

const helpDir = path.join(import.meta.dirname, '../../fixtures/meshctl-help');
const help = (v: string, c: string) => readFileSync(path.join(helpDir, v, `${c}.txt`), 'utf8');

function install(over: Partial<Install> = {}): Install {
  return {
    namespace: 'nginx-mesh',
    version: '1.7.0',
    method: 'meshctl',
    release: 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.7.0',
    environment: 'kubernetes',
    values: {},
    controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.7.0' },
    warnings: [],
    ...over,
  };
}
function options(over: Partial<PlanOptions> = {}): PlanOptions {
  return {
    to: '2.0.0',
    strategy: 'manual',
    meshctlBinaries: { '1.7.0': '/bin/meshctl-1.7.0', '2.0.0': '/bin/meshctl-2.0.0' },
    helm: undefined,
    chart: { kind: 'repo', ref: 'x' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/b',
    timeout: '10m',
    ...over,
  };
}

/** A fake runner: each binary answers --help from the real fixtures; `ran` records every command. */
import fsp from 'node:fs/promises';
import type { Kube } from '../../../src/kube/client.ts';

/** The dry-run proxy starts on loopback; the fake binaries never call it. */
const proxyDeps = { kube: {} as Kube, fs: fsp };

function fakeExec(answer: (cmd: Command) => Partial<CommandResult> | undefined = () => undefined) {
  const ran: Command[] = [];
  return {
    ran,
    exec: {
      dryRun: false,
      stopAll: async () => undefined,
      signalAll: () => undefined,
      async run(cmd: Command): Promise<CommandResult> {
        ran.push(cmd);
        const custom = answer(cmd);
        if (custom) return { exitCode: 0, stdout: '', stderr: '', skipped: false, ...custom };
        const version = /meshctl-(\d+\.\d+\.\d+)$/.exec(cmd.bin)?.[1] ?? '2.0.0';
        if (cmd.args[1] === '--help')
          return { exitCode: 0, stdout: help(version, String(cmd.args[0])), stderr: '', skipped: false };
        return { exitCode: 0, stdout: '', stderr: '', skipped: false };
      },
    },
  };
}

describe('checkPlannedFlags', () => {
  it('lists the commands with the version each binary must have (remove: the installed one)', () => {
    const plan = buildPlan(install(), options());
    expect(plannedMeshctlCommands(plan).map((p) => [p.stepId, p.command, p.version, p.cmd.bin])).toEqual([
      ['hop1.remove', 'remove', '1.7.0', '/bin/meshctl-1.7.0'],
      ['hop1.deploy', 'deploy', '2.0.0', '/bin/meshctl-2.0.0'],
    ]);
  });

  it('passes a plan the real binaries accept, pull policy Always included (--pull-always, hidden)', async () => {
    const plan = buildPlan(
      install({
        values: { registry: { imagePullPolicy: 'Always' }, mtls: { mode: 'strict', persistentStorage: 'off' } },
      }),
      options(),
    );
    expect(plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!.args).toContain('--pull-always');
    const f = fakeExec();
    expect(await checkPlannedFlags(f, plan)).toEqual([]);
    // One --help per binary and subcommand, nothing else run.
    expect(f.ran.map((c) => `${c.bin} ${c.args.join(' ')}`)).toEqual([
      '/bin/meshctl-1.7.0 remove --help',
      '/bin/meshctl-2.0.0 deploy --help',
    ]);
  });

  it('refuses a deploy flag the target binary does not have, naming the flag, the binary and the step', async () => {
    const plan = buildPlan(install(), options());
    const deploy = plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!;
    const bad: Plan = structuredClone(plan);
    bad.hops[0]!.steps.find((s) => s.id === deploy.id)!.commands[0]!.args.push(
      '--pull-policy',
      'Always',
      '--disable-auto-inject',
    );
    const failures = await checkPlannedFlags(fakeExec(), bad);
    expect(failures.map((x) => x.message)).toEqual([
      expect.stringMatching(
        /hop1\.deploy would run .* but \/bin\/meshctl-2\.0\.0 \(nginx-meshctl 2\.0\.0\) has no deploy flag --pull-policy/,
      ),
      expect.stringMatching(/has no deploy flag --disable-auto-inject/),
    ]);
    expect(failures[0]!.fix).toMatch(/nothing was removed/);
  });

  it('accepts the 1.x-only hidden flags on 1.7.0 and refuses them on 2.0.0', async () => {
    const plan = buildPlan(
      install({
        version: '1.6.0',
        controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.6.0' },
        values: { tracing: { backend: 'zipkin', address: 'z.obs:9411' } },
      }),
      options({ to: '1.7.0', meshctlBinaries: { '1.6.0': '/bin/meshctl-1.7.0', '1.7.0': '/bin/meshctl-1.7.0' } }),
    );
    expect(plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!.args).toContain('--tracing-backend');
    expect(await checkPlannedFlags(fakeExec(), plan)).toEqual([]);
    // The same flags on a deploy by 2.0.0 (as a stale table would pass them) are refused.
    const to20: Plan = structuredClone(buildPlan(install(), options()));
    to20.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!.args.push(
      '--tracing-backend',
      'zipkin',
      '--tracing-address',
      'z.obs:9411',
    );
    expect((await checkPlannedFlags(fakeExec(), to20)).map((x) => x.message.split(' has no ')[1])).toEqual([
      'deploy flag --tracing-backend',
      'deploy flag --tracing-address',
    ]);
  });
});

describe("dry runs (the binary's own value checks)", () => {
  it('deploy: the dry run goes right after the subcommand, without cleanup-on-error (its image-pull watcher would run remove)', () => {
    expect(
      withDryRun(
        { bin: 'm', args: ['-n', 'ns', '-t', '5m', 'deploy', '--mtls-mode', 'strict'], writes: true },
        'deploy',
      ).args,
    ).toEqual(['-n', 'ns', '-t', '5m', 'deploy', '--dry-run', '--cleanup-on-error=false', '--mtls-mode', 'strict']);
  });
  it('judges: the existing mesh is the expected stop of deploy; a value error is a refusal; no --dry-run is a skip', () => {
    expect(
      judgeDryRun('deploy', {
        exitCode: 1,
        stdout: '',
        stderr:
          "Error: found existing release 'nginx-service-mesh' of NGINX Service Mesh in namespace 'nginx-mesh' with status 'deployed'",
      }),
    ).toBeUndefined();
    expect(
      judgeDryRun('deploy', {
        exitCode: 1,
        stdout: '',
        stderr: 'Error: unable to find default StorageClass, ensure one is configured',
      }),
    ).toBe('Error: unable to find default StorageClass, ensure one is configured');
    expect(judgeDryRun('upgrade', { exitCode: 1, stdout: '', stderr: 'unknown flag: --dry-run' })).toBeUndefined();
    expect(
      judgeDryRun('upgrade', {
        exitCode: 1,
        stdout: '',
        stderr: 'Error: Upgrade command is not supported for OpenShift for 1.7 release.',
      }),
    ).toMatch(/OpenShift/);
    // 2.0's new CRDs were a dry run through the proxy: Helm cannot map their kinds, after the values passed.
    const mapping = (kinds: string[]) =>
      `Error: error upgrading NGINX Service Mesh: [${kinds.map((k) => `resource mapping not found for name: "x" namespace: "" from "": no matches for kind "${k}" ensure CRDs are installed first`).join(', ')}]`;
    expect(
      judgeDryRun('upgrade', {
        exitCode: 1,
        stdout: '',
        stderr: mapping([
          'MeshConfig" in version "nsm.nginx.com/v1alpha2',
          'MeshConfigClass" in version "nsm.nginx.com/v1alpha2',
        ]),
      }),
    ).toBeUndefined();
    expect(
      judgeDryRun('upgrade', {
        exitCode: 1,
        stdout: '',
        stderr: mapping([
          'MeshConfig" in version "nsm.nginx.com/v1alpha2',
          'Gateway" in version "gateway.networking.k8s.io/v1',
        ]),
      }),
    ).toMatch(/Gateway/);
  });
  it("runs hop 1's deploy --dry-run and upgrade --dry-run (2.0's too), each with the dry-run proxy's kubeconfig", async () => {
    const f = fakeExec((c) =>
      c.args.includes('--dry-run')
        ? {
            exitCode: 1,
            stderr: 'Error: invalid configuration: both --registry-username and --registry-password must be set',
          }
        : undefined,
    );
    const failures = await checkDryRuns({ ...f, ...proxyDeps }, buildPlan(install(), options()));
    expect(failures.map((x) => x.message)).toEqual([
      expect.stringMatching(
        /nginx-meshctl 2\.0\.0 \(\/bin\/meshctl-2\.0\.0\) rejects the hop1\.deploy command in a dry run: Error: invalid configuration/,
      ),
    ]);
    expect(f.ran[0]!.args.slice(0, 2)).toEqual(['-k', expect.stringMatching(/nsm-upgrade-dry-run-.*\/kubeconfig$/)]);
    const g = fakeExec();
    await checkDryRuns({ ...g, ...proxyDeps }, buildPlan(install(), options({ strategy: 'in-place' })));
    expect(g.ran.map((c) => c.args.slice(-3))).toEqual([['upgrade', '--dry-run', '--yes']]);
    const h = fakeExec();
    await checkDryRuns(
      { ...h, ...proxyDeps },
      buildPlan(
        install({ version: '1.6.0' }),
        options({ to: '1.7.0', strategy: 'in-place', meshctlBinaries: { '1.7.0': '/bin/meshctl-1.7.0' } }),
      ),
    );
    expect(h.ran.map((c) => c.args.slice(-3))).toEqual([['upgrade', '--dry-run', '--yes']]);
  });

  it("a binary that panics in its dry run is refused with the panic and its first frames, not cobra's", () => {
    const panic = [
      'Upgrading NGINX Service Mesh in namespace "nginx-mesh".',
      'panic: runtime error: invalid memory address or nil pointer dereference',
      '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x2a8d3f1]',
      '',
      'goroutine 1 [running]:',
      'github.com/nginxinc/nginx-service-mesh/internal/nginx-meshctl/commands.(*upgrader).savePreviousConfig(...)',
      '\tgithub.com/nginxinc/nginx-service-mesh/internal/nginx-meshctl/commands/upgrade.go:351',
      'github.com/nginxinc/nginx-service-mesh/internal/nginx-meshctl/commands.(*upgrader).buildValues(0xc0004a5f80, {0x3199c78, 0xc000520960}, {0x7ffd5, 0x5}, {0x0, 0x0})',
      '\tgithub.com/nginxinc/nginx-service-mesh/internal/nginx-meshctl/commands/upgrade.go:280 +0x2f5',
      ...Array.from({ length: 12 }, (_, i) => [
        `github.com/spf13/cobra.(*Command).execute${i}(...)`,
        `\tgithub.com/spf13/cobra@v1.6.1/command.go:${900 + i}`,
      ]).flat(),
    ].join('\n');
    const said = judgeDryRun('upgrade', { exitCode: 2, stdout: '', stderr: panic })!;
    expect(said).toMatch(/^it panicked \(exit 2\):\n/);
    expect(said).toContain('panic: runtime error: invalid memory address or nil pointer dereference');
    expect(said).toContain('commands.(*upgrader).savePreviousConfig(...)');
    expect(said).toContain('upgrade.go:280');
    expect(said).not.toContain('execute11'); // the last frames (cobra's) are what the old tail showed
  });
});
