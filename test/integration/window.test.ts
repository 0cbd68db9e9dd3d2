/**
 * Every run reports its maintenance window (src/engine/window.ts), on the real API server with the
 * test bed: a manual 1.6.0 -> 1.7.0 upgrade in `-o json` ends with a `window` event whose figures
 * read the cluster's own timestamps where it keeps them, and agree with what the cluster holds
 * afterwards; killed right after the removal, the resumed run still reports the whole window.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kube/client.ts';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core } from '../../src/kube/paths.ts';
import type { RunWindow, Span } from '../../src/engine/window.ts';
import {
  expectConverged,
  resumeArgs,
  runUpgrade,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { runAndKillAfter } from '../support/kill-at.ts';
import { runTool } from '../support/cluster.ts';
import { chartsDir, userKinds } from '../support/mesh-scenario.ts';

let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
const newest = (ts: (string | undefined)[]) =>
  ts
    .filter((t): t is string => Boolean(t))
    .sort((a, b) => Date.parse(a) - Date.parse(b))
    .at(-1);

function windowOf(stdout: string): RunWindow {
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { step: string; event: string } & RunWindow);
  const w = events.find((e) => e.step === 'window' && e.event === 'window');
  if (!w) throw new Error(`no window event in: ${stdout.slice(-2000)}`);
  return w;
}

/** The cluster's own moments: the newest creationTimestamp of the restored objects, and of the app Deployments' rollouts completing. */
async function clusterMoments(
  s: Scenario,
): Promise<{ lastCreated: string | undefined; lastRolledOut: string | undefined }> {
  const objects = (
    await Promise.all(userKinds.flatMap((k) => s.appNamespaces.map((ns) => listAll(s.kube, collectionPath(k, ns)))))
  ).flat();
  type D = KubeObject & { status?: { conditions?: { type: string; reason?: string; lastUpdateTime?: string }[] } };
  const deployments = (
    await Promise.all(s.appNamespaces.map((ns) => listAll<D>(s.kube, collectionPath(core.deployments, ns))))
  ).flat();
  return {
    lastCreated: newest(objects.map((x) => (x.metadata as { creationTimestamp?: string }).creationTimestamp)),
    lastRolledOut: newest(
      deployments.map(
        (d) =>
          d.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')
            ?.lastUpdateTime,
      ),
    ),
  };
}

function expectSpan(f: unknown): Span {
  expect(f).toMatchObject({ seconds: expect.any(Number) });
  return f as Span;
}

describe('the maintenance window', () => {
  it('a manual upgrade (-o json) ends with its window: each figure between two marks, read from the cluster where it keeps the moment', async () => {
    current = await setUpMesh(o);
    const started = Date.now();
    const r = await runUpgrade(current, o, ['--strategy', 'manual', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const w = windowOf(r.stdout);
    const moments = await clusterMoments(current);
    const h = w.hops[0]!;
    expect([h.hop, h.from, h.to, h.strategy]).toEqual([1, '1.6.0', '1.7.0', 'manual']);
    // Policy gap: a CRD's deletionTimestamp to the last restored object's creationTimestamp, both the cluster's.
    const gap = expectSpan(h.policyGap);
    expect([gap.from.source, gap.to.source]).toEqual(['cluster', 'cluster']);
    expect(gap.from.what).toMatch(/^CRD [a-z.]+ deleted \(deletionTimestamp\)$/);
    expect(gap.to.at).toBe(new Date(moments.lastCreated!).toISOString().replace('.000Z', 'Z'));
    // Control plane: the removal command (this machine's clock) to every control plane pod Ready (the cluster's).
    const down = expectSpan(h.controlPlaneDown);
    expect([down.from.source, down.to.source]).toEqual(['tool', 'cluster']);
    expect(Date.parse(down.from.at)).toBeLessThanOrEqual(Date.parse(gap.from.at) + 1000);
    // Data plane: the restart's start to the last Deployment's rollout complete, as the Deployment says.
    const data = expectSpan(h.dataPlane);
    expect(data.to.source).toBe('cluster');
    expect(Date.parse(data.to.at)).toBe(Date.parse(moments.lastRolledOut!));
    // A cluster time is whole seconds: an end read from it may fall up to 1 s before a start on this clock; the figure is then 0, never negative.
    for (const f of [gap, down, data])
      expect(f.seconds).toBeCloseTo(Math.max(0, (Date.parse(f.to.at) - Date.parse(f.from.at)) / 1000), 3);
    // The whole run: within the command's own wall time, the steps back to back.
    expect(w.totalSeconds).toBeGreaterThan(gap.seconds);
    expect(w.totalSeconds).toBeLessThanOrEqual((Date.now() - started) / 1000);
    expect(w.stepSeconds).toBeCloseTo(w.totalSeconds, 0);
    await expectConverged(current, '1.7.0');
  });

  it('killed right after the removal, the resumed run still reports the whole window in its summary', async () => {
    current = await setUpMesh(o);
    const killed = await runAndKillAfter(
      toolArgs(current, o, ['--strategy', 'manual']),
      current.backupDir,
      'hop1.remove',
    );
    expect(killed.killed, killed.output).toBe(true);
    await new Promise((res) => setTimeout(res, 3000)); // a pause between the runs, in the total, not in the steps' time
    const resumedAt = Date.now();
    const resumed = await runTool(resumeArgs(current), { env: { NSM_CHARTS_DIR: chartsDir } });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    // The summary: the total across both runs, the pause said, and each figure's two ends with their clocks.
    const total =
      /^Maintenance window: ([\d.]+) s \((\S+) to (\S+); the steps ran ([\d.]+) s, the rest was pauses between runs\)$/m.exec(
        resumed.stdout,
      );
    expect(total, resumed.stdout).not.toBeNull();
    expect(Date.parse(total![2]!)).toBeLessThan(resumedAt);
    expect(Number(total![1]) - Number(total![4])).toBeGreaterThanOrEqual(3);
    const at = (label: string) =>
      new RegExp(
        `^    ${label} +[\\d.]+ s \\(.* (\\d\\d:\\d\\d:\\d\\d) \\[(tool|cluster)\\] -> .* \\[(tool|cluster)\\]\\)$`,
        'm',
      ).exec(resumed.stdout);
    const today = new Date(resumedAt).toISOString().slice(0, 11);
    // The removal and the CRDs' deletion happened in the killed run: their marks came from its journal.
    for (const [label, from] of [
      ['no ready control plane', 'tool'],
      ['policy gap', 'cluster'],
      ['data plane converged in', 'tool'],
    ] as const) {
      const m = at(label);
      expect(m, `${label} in:\n${resumed.stdout}`).not.toBeNull();
      expect(m![2]).toBe(from);
      if (label !== 'data plane converged in') expect(Date.parse(`${today}${m![1]}Z`)).toBeLessThan(resumedAt);
    }
    const journal = fs
      .readFileSync(`${current.backupDir}/journal.ndjson`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; runId: string; mark?: string });
    expect(new Set(journal.filter((x) => x.type === 'window').map((x) => x.runId)).size).toBe(2);
    expect(journal.filter((x) => x.type === 'window' && x.mark === 'command')).toHaveLength(1);
    await expectConverged(current, '1.7.0');
  });
});
