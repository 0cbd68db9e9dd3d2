/**
 * `kubectl nsm-upgrade fleet` on two real, independent clusters (`npm run cluster:up -- --clusters 2`),
 * with the vendor's real nginx-meshctl 1.7.0 and 2.0.0: a mesh 1.7.0 with injected workloads and one of
 * each SMI/NGINX resource on each cluster, upgraded to 2.0.0 in place, canary first.
 * - the fleet converges on both, the canary finished before the second started;
 * - a failure injected on the second cluster (its nginx-meshctl 2.0.0 refuses `upgrade`) stops it
 *   there: the first upgraded, the second still on 1.7.0 with everything it had, exit 1; with
 *   --on-failure rollback its run rolls the hop back, and a fleet resume then refuses that cluster;
 * - the fleet and the canary's run killed (SIGKILL) mid-run, then `fleet --resume` converges on both;
 * - Ctrl-C during the canary's upgrade: its run finishes the step and stops, the second cluster is not
 *   started, exit 130; `fleet --resume` converges on both.
 * Without the second cluster (or the real binaries) every test skips, saying why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { detectInstall } from '../../src/mesh/detect.ts';
import { clusterEnv, repoRoot, runTool, uniqueName } from '../support/cluster.ts';
import { fleetClusters, fleetTestsMissing, type TestCluster } from '../support/fleet-clusters.ts';
import { meshctlFor } from '../support/real-meshctl.ts';
import { chartsDir, removeAllMeshes, sidecarVersions, snapshot } from '../support/mesh-scenario.ts';
import { expectConverged, type Scenario } from '../support/upgrade-scenario.ts';
import { leaveSavedMeshes, setUpSavedMesh } from '../support/saved-mesh.ts';
import { acquireMeshLock, releaseMeshLock, waitMeshFree } from '../fixtures/meshctl/mesh-lock.ts';
import { meshctlWrapper } from '../support/failing-deploy.ts';
import { runStillAlive } from '../../src/fleet/resume.ts';
import { stepsDone } from '../support/kill-at.ts';

const missing = fleetTestsMissing();
const holder = uniqueName('fleet-test');
let clusters: [TestCluster, TestCluster];
let scenarios: Scenario[] = [];

beforeAll(async () => {
  if (missing) return;
  clusters = await fleetClusters();
  for (const c of clusters) {
    await acquireMeshLock(c.kube, holder, 8 * 60_000);
    await removeAllMeshes(c.kube, c.kubeconfig); // what an earlier run left (the second cluster is the fleet tests' alone)
    const other = await waitMeshFree(c.kube, 3 * 60_000);
    if (other) throw new Error(`${c.context}: another mesh stays: ${other}`);
  }
  return async () => {
    for (const c of clusters) await releaseMeshLock(c.kube, holder);
  };
}, 900_000);

afterEach(async () => {
  await Promise.all(scenarios.map((s) => s.cleanup())); // one per cluster: independent
  scenarios = [];
});
afterAll(leaveSavedMeshes);

/** The mesh namespace of every test's start, the same on both clusters. */
const ns = uniqueName('mesh');

/**
 * Each test's start (it skips, saying why, without the two clusters): a 1.7.0 mesh (real nginx-meshctl)
 * with one namespace of injected, opted-in workloads on each cluster, in the same mesh namespace `ns`,
 * and a fleet directory to be. The first test builds it on each cluster and saves it; the others get it
 * restored (test/support/saved-mesh.ts).
 */
async function fleetTest(ctx: TestContext): Promise<{ ns: string; s1: Scenario; s2: Scenario; dir: string }> {
  ctx.skip(missing !== undefined, missing);
  scenarios = await Promise.all(
    clusters.map((cluster) =>
      setUpSavedMesh({
        method: 'meshctl',
        from: '1.7.0',
        optIn: true,
        namespaces: 1,
        cluster,
        meshNamespace: ns,
        realMeshctl: true,
      }),
    ),
  );
  return {
    ns,
    s1: scenarios[0]!,
    s2: scenarios[1]!,
    dir: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-fleet-test-')), 'fleet'),
  };
}
const env = () => ({ NSM_CHARTS_DIR: chartsDir, KUBECONFIG: clusterEnv().KUBECONFIG! });
const realBinaries = () => ['--meshctl', meshctlFor('2.0.0').bin, '--meshctl-current', meshctlFor('1.7.0').bin];
const record = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, 'fleet.json'), 'utf8')) as {
    clusters: Record<string, { status: string; step?: string; exitCode?: number }>;
  };
const journal = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step?: string; at: string });

/**
 * A fleet file for the two scenarios where the second cluster's nginx-meshctl 2.0.0 is the real one
 * except that it refuses `upgrade` (not --help, nor preflight's --dry-run): its run fails at hop1.upgrade, before changing anything.
 */
function failingFleetFile(s1: Scenario, s2: Scenario): string {
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-fleet-bin-'));
  meshctlWrapper(path.join(binDir, 'nginx-meshctl-2.0.0'), meshctlFor('2.0.0').bin, {
    passThrough: '*" --help "*|*" -h "*|*" --dry-run "*',
    on: 'upgrade',
    body: ['  echo "Error: injected by the fleet test: upgrade refused" >&2', '  exit 1;;'],
  });
  const file = path.join(binDir, 'fleet.yaml');
  fs.writeFileSync(
    file,
    [
      'to: 2.0.0',
      'clusters:',
      '  - context: nsm-local',
      `    meshNamespace: ${s1.meshNamespace}`,
      `    meshctl: ${meshctlFor('2.0.0').bin}`,
      `    meshctlCurrent: ${meshctlFor('1.7.0').bin}`,
      '  - context: nsm-local-2',
      `    meshNamespace: ${s2.meshNamespace}`,
      '    meshctl: ./nginx-meshctl-2.0.0',
      `    meshctlCurrent: ${meshctlFor('1.7.0').bin}`,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * Starts the fleet of the two clusters (mesh namespace `ns`) and returns once the canary's journal records
 * `step` done and, when `printed` is given, the fleet's output holds it too (the fleet relays the canary's
 * events a moment after the canary journals them: a kill in between would find the event unprinted).
 */
async function fleetUntilCanary(
  ns: string,
  dir: string,
  step: string,
  extra: string[] = [],
  printed?: { context: string; step: string; event: string },
) {
  const child = execa(
    path.join(repoRoot, 'bin/kubectl-nsm_upgrade'),
    [
      'fleet',
      '--contexts',
      'nsm-local,nsm-local-2',
      '--to',
      '2.0.0',
      '--mesh-namespace',
      ns,
      ...realBinaries(),
      '--backup-dir',
      dir,
      '--yes',
      '--timeout',
      '3m',
      ...extra,
    ],
    { reject: false, env: { ...clusterEnv(), ...env() }, all: true },
  );
  let exited = false;
  void child.finally(() => {
    exited = true;
  });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const canaryJournal = path.join(dir, 'nsm-local', 'journal.ndjson');
  const deadline = Date.now() + 600_000;
  const wasPrinted = () =>
    printed === undefined ||
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .some((l) => {
        try {
          const e = JSON.parse(l) as Record<string, unknown>;
          return e.context === printed.context && e.step === printed.step && e.event === printed.event;
        } catch {
          return false;
        }
      });
  while (!(fs.existsSync(canaryJournal) && stepsDone(path.dirname(canaryJournal)).includes(step) && wasPrinted())) {
    if (Date.now() > deadline || exited)
      throw new Error(`the fleet did not reach ${step} on the canary: ${String((await child).all)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  return { child }; // wrapped: the child is a promise, an async function would wait for it
}

async function expectOn(s: Scenario, version: string): Promise<void> {
  const install = await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace });
  expect(install.version).toBe(version);
  expect(await snapshot(s.kube, s.appNamespaces)).toEqual(s.before);
  expect(await sidecarVersions(s.kube, s.appNamespaces)).toEqual({ [version]: s.appNamespaces.length * 2 });
}

describe('fleet: two clusters, 1.7.0 -> 2.0.0 with the real nginx-meshctl', () => {
  it('upgrades the canary, then the second cluster; both converge, and status --contexts says so', async (ctx: TestContext) => {
    const { ns, s1, s2, dir } = await fleetTest(ctx);
    const t0 = Date.now();
    const r = await runTool(
      [
        'fleet',
        '--contexts',
        'nsm-local,nsm-local-2',
        '--to',
        '2.0.0',
        '--mesh-namespace',
        ns,
        ...realBinaries(),
        '--backup-dir',
        dir,
        '--yes',
        '--timeout',
        '3m',
      ],
      { env: env() },
    );
    console.log(`[fleet] two clusters 1.7.0 -> 2.0.0: ${((Date.now() - t0) / 1000).toFixed(0)}s, exit ${r.exitCode}`);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    await expectConverged(s1, '2.0.0');
    await expectConverged(s2, '2.0.0');
    // The plan first, then one group per cluster, then where each cluster is.
    expect(r.stderr).toMatch(
      /Fleet plan: NGINX Service Mesh to 2\.0\.0 on 2 clusters[\s\S]*nsm-local\s+1 \(canary\)\s+1\.7\.0\s+nginx-meshctl\s+1\.7\.0 -> 2\.0\.0 in-place/,
    );
    expect(r.stdout).toMatch(/\[nsm-local\] wave 1 \(canary\)[\s\S]*\[hop1\.upgrade\][\s\S]*\[nsm-local-2\] wave 2/);
    expect(r.stdout).toMatch(/Fleet to 2\.0\.0: 2 of 2 clusters on 2\.0\.0/);
    expect(Object.values(record(dir).clusters).map((c) => c.status)).toEqual(['done', 'done']);
    // Canary first: its run had finished before the second cluster's run started.
    const finished = journal(path.join(dir, 'nsm-local')).find((x) => x.type === 'finished')!;
    const started = journal(path.join(dir, 'nsm-local-2')).find((x) => x.type === 'run')!;
    expect(Date.parse(finished.at)).toBeLessThanOrEqual(Date.parse(started.at));
    const status = await runTool(['status', '--contexts', 'nsm-local,nsm-local-2', '--mesh-namespace', ns]);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /nsm-local\s+2\.0\.0 \(ready\)\s+2\.0\.0=2\s+yes\nnsm-local-2\s+2\.0\.0 \(ready\)\s+2\.0\.0=2\s+yes/,
    );
  }, 900_000);

  it('a failure on the second cluster stops it there: the first upgraded, the second on 1.7.0 with everything it had', async (ctx: TestContext) => {
    const { s1, s2, dir } = await fleetTest(ctx);
    const r = await runTool(
      ['fleet', '--fleet', failingFleetFile(s1, s2), '--backup-dir', dir, '--yes', '--timeout', '3m'],
      { env: env() },
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(
      /error: the fleet stopped at nsm-local-2: step "hop1\.upgrade" failed: .* exited 1: Error: injected by the fleet test: upgrade refused/,
    );
    expect(r.stdout).toMatch(/nsm-local\s+1 \(canary\)\s+upgraded: on 2\.0\.0, converged/);
    expect(r.stdout).toMatch(
      /nsm-local-2\s+2\s+FAILED at hop1\.upgrade \(exit 1\): .*; its control plane runs 1\.7\.0; its backup and journal/,
    );
    expect(r.stdout).toContain(`kubectl nsm-upgrade fleet --resume ${dir}`);
    await expectConverged(s1, '2.0.0');
    await expectOn(s2, '1.7.0');
    expect(record(dir).clusters['nsm-local-2']).toMatchObject({
      status: 'failed',
      step: 'hop1.upgrade',
      exitCode: 1,
      now: '1.7.0',
    });
    // Its run backed up before it failed, and its own log has the cause.
    expect(fs.existsSync(path.join(dir, 'nsm-local-2', 'hop1', 'manifest.json'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'logs', 'nsm-local-2.log'), 'utf8')).toContain('injected by the fleet test');
  }, 900_000);

  it("--on-failure rollback is passed to the second cluster's run, which rolls its hop back; the fleet stops there", async (ctx: TestContext) => {
    const { s1, s2, dir } = await fleetTest(ctx);
    const r = await runTool(
      [
        'fleet',
        '--fleet',
        failingFleetFile(s1, s2),
        '--backup-dir',
        dir,
        '--yes',
        '--timeout',
        '3m',
        '--on-failure',
        'rollback',
      ],
      { env: env() },
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(
      /nsm-local-2\s+2\s+FAILED at hop1\.upgrade \(exit 1\): .*; rolled back \(--on-failure rollback\), its control plane runs 1\.7\.0/,
    );
    expect(fs.readFileSync(path.join(dir, 'logs', 'nsm-local-2.log'), 'utf8')).toMatch(
      /--on-failure rollback[\s\S]*Rolled back \(--on-failure rollback\): NSM 1\.7\.0 runs again/,
    );
    await expectConverged(s1, '2.0.0');
    await expectOn(s2, '1.7.0');
    expect(record(dir).clusters['nsm-local-2']).toMatchObject({ status: 'failed', rolledBack: true, now: '1.7.0' });
    // That run is over: a fleet resume refuses it (exit 3) and says to start a new fleet.
    const resumed = await runTool(['fleet', '--resume', dir, '--yes'], { env: env() });
    expect(resumed.exitCode).toBe(3);
    expect(resumed.stderr).toMatch(
      /nsm-local-2: \[rolled-back\] its run failed and was rolled back to 1\.7\.0[\s\S]*start a new fleet/,
    );
  }, 900_000);

  it("killed mid-fleet (the fleet and the canary's run, SIGKILL), then fleet --resume converges on both", async (ctx: TestContext) => {
    const { ns, s1, s2, dir } = await fleetTest(ctx);
    // Killed once the canary's control plane is upgraded (hop1.upgrade journaled): it is restarting its workloads.
    const { child } = await fleetUntilCanary(ns, dir, 'hop1.upgrade', ['-o', 'json'], {
      context: 'nsm-local',
      step: 'hop1.upgrade',
      event: 'done',
    });
    const runPid = (
      JSON.parse(fs.readFileSync(path.join(dir, 'fleet.json'), 'utf8')) as {
        clusters: Record<string, { pid?: number }>;
      }
    ).clusters['nsm-local']!.pid!;
    child.kill('SIGKILL');
    try {
      process.kill(-runPid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    // Everything of the fleet is dead, as after a crash of its machine (a killed run may wait to be reaped).
    for (let i = 0; i < 100 && (await runStillAlive({ fs: fs.promises }, runPid, path.join(dir, 'nsm-local'))); i++)
      await new Promise((res) => setTimeout(res, 100));
    // -o json: each cluster's events carry its context.
    const events = String(killed.all)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { context?: string; step: string; event: string });
    expect(events).toContainEqual(
      expect.objectContaining({ context: 'nsm-local', step: 'hop1.upgrade', event: 'done' }),
    );
    expect(events.some((e) => e.context === 'nsm-local-2')).toBe(false);
    expect(record(dir).clusters).toMatchObject({
      'nsm-local': { status: 'running' },
      'nsm-local-2': { status: 'pending' },
    });

    const r = await runTool(['fleet', '--resume', dir, '--yes'], { env: env() });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/nsm-local\s+1 \(canary\)\s+1\.7\.0\s+nginx-meshctl\s+resume its run/);
    await expectConverged(s1, '2.0.0');
    await expectConverged(s2, '2.0.0');
    expect(journal(path.join(dir, 'nsm-local')).filter((x) => x.type === 'resume')).toHaveLength(1);
    expect(
      journal(path.join(dir, 'nsm-local')).filter((x) => x.type === 'step' && x.step === 'hop1.upgrade'),
    ).toHaveLength(1); // not upgraded twice
    expect(Object.values(record(dir).clusters).map((c) => c.status)).toEqual(['done', 'done']);
  }, 900_000);

  it("Ctrl-C during the canary's upgrade: its step finishes, nothing else starts (exit 130); fleet --resume converges on both", async (ctx: TestContext) => {
    const { ns, s1, s2, dir } = await fleetTest(ctx);
    const { child } = await fleetUntilCanary(ns, dir, 'hop1.backup');
    child.kill('SIGINT'); // the fleet process only: the terminal's Ctrl-C, as the fleet passes it on
    const r = await child;
    expect(r.exitCode, String(r.all)).toBe(130);
    expect(String(r.all)).toContain(`kubectl nsm-upgrade fleet --resume ${dir}`);
    // The step that was running when Ctrl-C came finished and was journaled; nothing after it ran.
    const steps = journal(path.join(dir, 'nsm-local'))
      .filter((x) => x.type === 'step')
      .map((x) => x.step);
    expect(steps[0]).toBe('hop1.backup');
    expect(steps.length).toBeLessThanOrEqual(2);
    expect(record(dir).clusters).toMatchObject({
      'nsm-local': { status: 'interrupted' },
      'nsm-local-2': { status: 'pending' },
    });
    expect(fs.existsSync(path.join(dir, 'nsm-local-2'))).toBe(false);
    await expectOn(s2, '1.7.0');

    const resumed = await runTool(['fleet', '--resume', dir, '--yes'], { env: env() });
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    await expectConverged(s1, '2.0.0');
    await expectConverged(s2, '2.0.0');
  }, 900_000);
});
