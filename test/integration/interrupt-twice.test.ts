/**
 * Issue 23, "Locks and signals that hold under failure", end to end with the real CLI:
 * - the second Ctrl-C while nginx-meshctl runs: the command's process group is stopped, the lease is
 *   released, the private kubeconfig (it may hold inline credentials) is removed, exit 130;
 * - the second Ctrl-C while the run waits on the API server (no child running, the step not listening
 *   to the first): the private kubeconfig is removed by the signal itself, as the step never ends;
 * - a signal during preflight's dry run, before anything changed (SIGHUP, the terminal closed): the
 *   signal rules are installed at start, so the dry run (its own process group, which a terminal's
 *   Ctrl-C does not reach) is stopped rather than orphaned, and the tool exits 130 with nothing changed.
 * nginx-meshctl 1.7.0 is the stand-in behind a wrapper that, for the command under test, records its
 * pid and then hangs, so each signal lands while that command runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { detectInstall } from '../../src/mesh/detect.ts';
import { objectPath, core } from '../../src/kube/paths.ts';
import { leaseName, leaseNamespace } from '../../src/engine/lease.ts';
import { childKubeconfigPath } from '../../src/engine/child-kubeconfig.ts';
import { clusterEnv, repoRoot } from '../support/cluster.ts';
import { chartsDir } from '../support/mesh-scenario.ts';
import {
  scenarioMeshctl,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';

let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0', namespaces: 1 };

/** nginx-meshctl 1.7.0 that, when its arguments match `when` (a case pattern), writes its pid to `pidFile` and hangs. */
function hangingMeshctl(dir: string, when: string, pidFile: string): string {
  const bin = path.join(dir, 'nginx-meshctl-1.7.0');
  fs.writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `case " $* " in ${when}) echo $$ > '${pidFile}'; while :; do sleep 0.2; done;; esac`,
      `exec '${scenarioMeshctl('1.7.0')}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return bin;
}

function startTool(s: Scenario, meshctl: string, extra: string[] = []) {
  const args = toolArgs(s, o, ['--strategy', 'in-place', ...extra]).map((a, i, all) =>
    all[i - 1] === '--meshctl' && a === scenarioMeshctl('1.7.0') ? meshctl : a,
  );
  const child = execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), args, {
    reject: false,
    all: true,
    env: { ...clusterEnv(), NSM_CHARTS_DIR: chartsDir },
  });
  let exited = false;
  void child.finally(() => {
    exited = true;
  });
  return { child, exited: () => exited };
}

async function waitFor(what: () => boolean, exited: () => boolean, ms = 180_000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until && !exited();) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return what();
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** A mesh, and the tool started on it with the hanging nginx-meshctl 1.7.0; returns once that command runs, with its pid. */
async function startHanging(when: string) {
  current = await setUpMesh(o);
  const s = current;
  const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-signal-')), 'hung.pid');
  const run = startTool(s, hangingMeshctl(path.dirname(pidFile), when, pidFile));
  const started = await waitFor(
    () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '',
    run.exited,
  );
  expect(started, `nginx-meshctl ${when} never ran`).toBe(true);
  return { s, run, pid: Number(fs.readFileSync(pidFile, 'utf8')) };
}

async function leaseGone(s: Scenario): Promise<boolean> {
  return s.kube.request({ path: objectPath(core.leases, leaseName(s.meshNamespace), leaseNamespace) }).then(
    () => false,
    (e: { status?: number }) => e.status === 404,
  );
}

describe('signals', () => {
  it('the second Ctrl-C during nginx-meshctl upgrade: its group stopped, lease released, no private kubeconfig left, exit 130', async () => {
    const { s, run, pid } = await startHanging('*" upgrade --yes "*');
    expect(fs.existsSync(childKubeconfigPath(s.backupDir))).toBe(true); // what the command reads, while it runs
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(pid)).toBe(true); // the first Ctrl-C lets the running command go on
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const res = await run.child;
    expect(res.exitCode, String(res.all).slice(-3000)).toBe(130);
    expect(Date.now() - t0).toBeLessThan(12_000);
    expect(String(res.all)).toContain(`--resume ${s.backupDir}`);
    expect(alive(pid)).toBe(false);
    expect(await leaseGone(s)).toBe(true);
    expect(fs.existsSync(childKubeconfigPath(s.backupDir))).toBe(false);
  }, 600_000);

  it('the second Ctrl-C while a step waits on the API server: lease released, the private kubeconfig removed by the signal itself, exit 130', async () => {
    current = await setUpMesh(o);
    const s = current;
    // Once the run holds its lease, every pod list of the tool hangs for a minute (the backup step's
    // skew report, else the restart's): the step waits in a request no signal ends.
    let armed = false;
    const proxy = await startFaultProxy({
      rate: 1,
      seed: 3,
      kinds: ['delay'],
      delayMs: 60_000,
      maxSeconds: 300,
      match: (method, url) => armed && method === 'GET' && /\/pods(\?|$)/.test(url),
    });
    try {
      const run = startTool(s, scenarioMeshctl('1.7.0'), ['--kubeconfig', proxy.kubeconfigPath]);
      let held = false;
      for (const until = Date.now() + 180_000; Date.now() < until && !run.exited() && !held;) {
        if (!(await leaseGone(s))) held = true;
        else await new Promise((r) => setTimeout(r, 25));
      }
      armed = held;
      expect(held, 'the run never took its lease').toBe(true);
      const hung = await waitFor(() => proxy.stats.injected.delay > 0, run.exited);
      expect(hung, 'no pod list was held up').toBe(true);
      expect(fs.existsSync(childKubeconfigPath(s.backupDir))).toBe(true);
      run.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 500));
      const t0 = Date.now();
      run.child.kill('SIGINT');
      const res = await run.child;
      expect(res.exitCode, String(res.all).slice(-3000)).toBe(130);
      expect(Date.now() - t0).toBeLessThan(12_000);
      expect(await leaseGone(s)).toBe(true);
      expect(fs.existsSync(childKubeconfigPath(s.backupDir))).toBe(false);
    } finally {
      await proxy.close();
    }
  }, 600_000);

  it("SIGHUP during preflight's dry run: the dry run is stopped, not orphaned; exit 130, nothing changed", async () => {
    const { s, run, pid } = await startHanging('*" upgrade --dry-run "*');
    run.child.kill('SIGHUP');
    const res = await run.child;
    expect(res.exitCode, String(res.all).slice(-3000)).toBe(130);
    expect(String(res.all)).toMatch(/SIGHUP: stopping; the upgrade had not begun changing the cluster/);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(pid)).toBe(false);
    expect(await leaseGone(s)).toBe(true);
    expect(fs.existsSync(childKubeconfigPath(s.backupDir))).toBe(false);
    expect(fs.existsSync(path.join(s.backupDir, 'journal.ndjson'))).toBe(false);
    expect((await detectInstall({ kube: s.kube } as never, { meshNamespace: s.meshNamespace })).version).toBe('1.6.0');
  }, 600_000);
});
