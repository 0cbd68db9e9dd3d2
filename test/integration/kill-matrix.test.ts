import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  expectConverged,
  resumeArgs,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { leaveSavedMeshes, setUpSavedMesh } from '../support/saved-mesh.ts';
import { runAndKillAfter } from '../support/kill-at.ts';
import { clusterEnv, repoRoot, runTool } from '../support/cluster.ts';
import { chartsDir, sidecarVersions, userKinds } from '../support/mesh-scenario.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath } from '../../src/kube/paths.ts';

// Reliability (issue 7): the tool is SIGKILLed at every step boundary of the manual paths, in the
// middle of a large restore, and interrupted with SIGINT; each time `--resume DIR` must finish the
// upgrade with every backed-up object restored (equal spec) and every sidecar on the target.
let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});
// Each start is built once and restored for the next test that needs it (test/support/saved-mesh.ts).
afterAll(leaveSavedMeshes);

const env = () => ({ NSM_CHARTS_DIR: chartsDir });
const stepsDone = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l) as { type: string; step?: string };
      } catch {
        return { type: 'torn' };
      }
    })
    .filter((r) => r.type === 'step')
    .map((r) => r.step!);

/** Kills the run after each step in turn (resuming in between), then lets the last resume finish. */
async function killAtEveryBoundary(
  s: Scenario,
  o: ScenarioOptions & { to: string },
  steps: string[],
  extra: string[] = [],
): Promise<string[]> {
  const killedAt: string[] = [];
  for (const [i, step] of steps.slice(0, -1).entries()) {
    const args = i === 0 ? toolArgs(s, o, extra) : resumeArgs(s);
    const r = await runAndKillAfter(args, s.backupDir, step);
    expect(r.killed, `run ${i} should reach ${step}: ${r.output.slice(-2000)}`).toBe(true);
    killedAt.push(step);
  }
  const last = await runTool(resumeArgs(s), { env: env() });
  expect(last.exitCode, last.stderr).toBe(0);
  expect(stepsDone(s.backupDir)).toEqual(expect.arrayContaining(steps));
  return killedAt;
}

describe('kill and resume matrix', () => {
  it('OpenShift manual path (meshctl): SIGKILL after every step, resume each time, converge with nothing lost', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
    };
    current = await setUpSavedMesh(o);
    const steps = [
      'hop1.backup',
      'hop1.remove',
      'hop1.restart-unmeshed',
      'hop1.wait-sentinel',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ];
    expect(await killAtEveryBoundary(current, o, steps)).toHaveLength(7);
    await expectConverged(current, '1.7.0');
  });

  it('helm manual path: SIGKILL after every step, resume each time, converge with nothing lost', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'helm', from: '1.6.0', to: '1.7.0', helm: 'HELM3' };
    current = await setUpSavedMesh(o);
    const steps = [
      'hop1.backup',
      'hop1.remove',
      'hop1.delete-crds',
      'hop1.deploy',
      'hop1.restore',
      'hop1.restart',
      'hop1.verify',
    ];
    expect(await killAtEveryBoundary(current, o, steps, ['--strategy', 'manual'])).toHaveLength(6);
    await expectConverged(current, '1.7.0');
  });

  it('SIGKILL in the middle of restoring 2,000 objects: resume restores every one with equal spec', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpSavedMesh(o);
    const ns = current.appNamespaces[0]!;
    const ts = userKinds.find((k) => k.kind === 'TrafficSplit')!;
    const bulk = Array.from({ length: 2000 }, (_, i) => `bulk-${i}`);
    for (let i = 0; i < bulk.length; i += 50) {
      await Promise.all(
        bulk.slice(i, i + 50).map((name) =>
          current!.kube.request({
            method: 'POST',
            path: collectionPath(ts, ns),
            body: {
              apiVersion: ts.apiVersion,
              kind: ts.kind,
              metadata: { name, labels: { bulk: 'yes' } },
              spec: { service: 'backend', backends: [{ service: 'backend-v1', weight: i % 100 }] },
            },
          }),
        ),
      );
    }
    const before = (await listAll(current.kube, collectionPath(ts, ns), { labelSelector: 'bulk=yes' })).map((x) => [
      x.metadata!.name,
      x.spec,
    ]);
    // Manual path, killed once the restore has re-created some (but not all) of the bulk objects.
    const child = execa(
      path.join(repoRoot, 'bin/kubectl-nsm_upgrade'),
      toolArgs(current, o, ['--strategy', 'manual']),
      { reject: false, env: { ...clusterEnv(), ...env() } },
    );
    let killedAt = -1;
    let exited = false;
    void child.finally(() => {
      exited = true;
    });
    for (let t = 0; t < 3000 && killedAt < 0 && !exited; t++) {
      if (
        fs.existsSync(path.join(current.backupDir, 'journal.ndjson')) &&
        stepsDone(current.backupDir).includes('hop1.deploy')
      ) {
        const n = await listAll(current.kube, collectionPath(ts, ns), { labelSelector: 'bulk=yes' }).then(
          (l) => l.length,
          () => 0,
        );
        if (n > 100 && n < 1900) {
          child.kill('SIGKILL');
          killedAt = n;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await child;
    expect(
      killedAt,
      `the restore should have been caught part-way: ${String(res.stderr).slice(-3000)}`,
    ).toBeGreaterThan(100);
    expect(stepsDone(current.backupDir)).not.toContain('hop1.restore');
    const r = await runTool(resumeArgs(current), { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    const after = (await listAll(current.kube, collectionPath(ts, ns), { labelSelector: 'bulk=yes' })).map((x) => [
      x.metadata!.name,
      x.spec,
    ]);
    expect(after.sort()).toEqual(before.sort());
    expect(
      (await detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace })).version,
    ).toBe('1.7.0');
    expect(await sidecarVersions(current.kube, current.appNamespaces)).toEqual({
      '1.7.0': current.appNamespaces.length * 2,
    });
  });

  it('SIGINT (Ctrl-C) stops at a safe point, says how to resume, exits non-zero; resume converges', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      environment: 'openshift',
    };
    current = await setUpSavedMesh(o);
    const child = execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), toolArgs(current, o), {
      reject: false,
      env: { ...clusterEnv(), ...env() },
      all: true,
    });
    let exited = false;
    void child.finally(() => {
      exited = true;
    });
    for (let t = 0; t < 3000 && !exited; t++) {
      if (
        fs.existsSync(path.join(current.backupDir, 'journal.ndjson')) &&
        stepsDone(current.backupDir).includes('hop1.backup')
      ) {
        child.kill('SIGINT');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await child;
    expect(fs.existsSync(path.join(current.backupDir, 'journal.ndjson')), String(res.all)).toBe(true);
    expect(res.exitCode, String(res.all).slice(-3000)).not.toBe(0);
    expect(String(res.all)).toContain(`--resume ${current.backupDir}`);
    const done = stepsDone(current.backupDir);
    expect(done.length).toBeLessThanOrEqual(2); // the step running at Ctrl-C finishes; nothing after it starts
    const r = await runTool(resumeArgs(current), { env: env() });
    expect(r.exitCode, r.stderr).toBe(0);
    await expectConverged(current, '1.7.0');
  });
});
