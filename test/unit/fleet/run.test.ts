/**
 * The fleet's waves with fake cluster runs: each "run" plays the JSON events a real run prints, so
 * what is tested is the orchestration (order, parallelism, stopping, the record, the events).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetDeps } from '../../../src/deps.ts';
import type { Command, RunHooks, CommandResult } from '../../../src/exec/runner.ts';
import { memoryLog } from '../../../src/log.ts';
import { fleetSpec } from '../../../src/fleet/fleet-file.ts';
import { planFleet } from '../../../src/fleet/plan.ts';
import { runFleet } from '../../../src/fleet/run.ts';
import { newFleetState, readFleetState, type FleetSettings } from '../../../src/fleet/state.ts';
import type { ClusterAction, ClusterSurvey } from '../../../src/fleet/types.ts';

const steps = ['preflight', 'confirm', 'lease', 'hop1.backup', 'hop1.upgrade', 'hop1.verify'];
const ok = steps.map((s) =>
  JSON.stringify({
    at: 't',
    step: s,
    event: s === 'confirm' ? 'skipped' : 'done',
    ...(s === 'confirm' ? { reason: '--yes given' } : {}),
  }),
);
const failsAtUpgrade = [
  ...ok.slice(0, 4),
  JSON.stringify({ at: 't', step: 'hop1.upgrade', event: 'start', title: 'Upgrade' }),
  JSON.stringify({ at: 't', step: 'hop1.upgrade', event: 'failed', error: 'nginx-meshctl upgrade exited 1' }),
];

interface Script {
  lines: string[];
  exitCode: number;
  stderr?: string;
}

function fakeExec(
  scripts: Record<string, Script>,
  timeline: string[],
  argsSeen: Record<string, string[]>,
): FleetDeps['exec'] {
  return {
    dryRun: false,
    signalAll: () => undefined,
    stopAll: async () => undefined,
    async run(cmd: Command, hooks?: RunHooks): Promise<CommandResult> {
      const args = cmd.args as string[];
      const context = args[args.indexOf('--context') + 1]!;
      argsSeen[context] = args;
      timeline.push(`start ${context}`);
      hooks?.onStart?.(4242);
      const s = scripts[context] ?? { lines: ok, exitCode: 0 };
      for (const l of s.lines) {
        await new Promise((r) => setTimeout(r, 2));
        hooks?.onLine?.(l, 'stdout');
      }
      if (s.stderr) hooks?.onLine?.(s.stderr, 'stderr');
      timeline.push(`end ${context}`);
      return { exitCode: s.exitCode, stdout: s.lines.join('\n'), stderr: s.stderr ?? '', skipped: false };
    },
  };
}

function survey(context: string, action: ClusterAction = 'upgrade'): ClusterSurvey {
  return {
    context,
    action,
    from: '1.7.0',
    method: 'meshctl',
    hops: [{ from: '1.7.0', to: '2.0.0', strategy: 'in-place' }],
    steps: steps.map((id) => ({ id, title: id })),
    refusals: [],
    warnings: [],
  };
}

async function fleet(
  contexts: string[],
  opts: {
    scripts?: Record<string, Script>;
    maxParallel?: number;
    settings?: Partial<FleetSettings>;
    actions?: Record<string, ClusterAction>;
    check?: (ctx: string, n: number) => string | undefined;
    abort?: AbortController;
    resumeOf?: string[][];
  } = {},
) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-run-'));
  const timeline: string[] = [];
  const argsSeen: Record<string, string[]> = {};
  const slept: number[] = [];
  const checks: string[] = [];
  const spec = fleetSpec(
    { contexts },
    { meshNamespace: 'nginx-mesh', method: 'auto', strategy: 'auto', meshctl: [] },
    { to: '2.0.0', maxParallel: opts.maxParallel },
  );
  const settings: FleetSettings = {
    timeout: '10m',
    labelNamespaces: false,
    onFailure: 'stop',
    skipRefused: false,
    soakMs: 0,
    ...opts.settings,
  };
  const plan = planFleet(
    contexts.map((c) => survey(c, opts.actions?.[c])),
    { to: '2.0.0', maxParallel: spec.maxParallel, skipRefused: false, waves: opts.resumeOf },
  );
  const state = newFleetState(spec, settings, opts.resumeOf ?? plan.waves.map((w) => w.contexts), 'now');
  for (const [c, a] of Object.entries(opts.actions ?? {}))
    if (a === 'done') state.clusters[c] = { status: 'done', at: 'before' };
  const events: Record<string, unknown>[] = [];
  const fd: FleetDeps = {
    fs,
    log: memoryLog(),
    self: ['kubectl-nsm_upgrade'],
    exec: fakeExec(opts.scripts ?? {}, timeline, argsSeen),
    clock: {
      now: () => Date.now(),
      sleep: async (ms) => {
        slept.push(ms);
        timeline.push(`soak ${ms}`);
      },
    },
    cluster: async () => {
      throw new Error('not in unit tests');
    },
  };
  const result = await runFleet(fd, {
    fleetDir: dir,
    plan,
    state,
    output: 'json',
    emit: (l) => events.push(JSON.parse(l) as Record<string, unknown>),
    verbose: 0,
    signal: (opts.abort ?? new AbortController()).signal,
    check: async (c) => {
      checks.push(c.context);
      timeline.push(`check ${c.context}`);
      const problem = opts.check?.(c.context, checks.filter((x) => x === c.context).length);
      const upgraded = timeline.includes(`end ${c.context}`) && (opts.scripts?.[c.context]?.exitCode ?? 0) === 0;
      return { version: upgraded && !problem ? '2.0.0' : '1.7.0', problem };
    },
  });
  return { result, timeline, events, argsSeen, slept, checks, state, dir, record: await readFleetState(fs, dir) };
}

describe('runFleet: waves of single-cluster runs', () => {
  it('the canary alone, checked, then the next wave; every cluster done and recorded', async () => {
    const r = await fleet(['a', 'b', 'c']);
    expect(r.result).toEqual({});
    expect(r.timeline).toEqual([
      'start a',
      'end a',
      'check a',
      'start b',
      'end b',
      'check b',
      'start c',
      'end c',
      'check c',
    ]);
    expect(Object.fromEntries(Object.entries(r.record.clusters).map(([k, v]) => [k, v.status]))).toEqual({
      a: 'done',
      b: 'done',
      c: 'done',
    });
    expect(r.argsSeen.b!.slice(0, 2)).toEqual(['--backup-dir', path.join(r.dir, 'b')]);
  });

  it('--max-parallel 2: the clusters of a wave run together, the wave waits for all of them', async () => {
    const r = await fleet(['a', 'b', 'c', 'd'], { maxParallel: 2 });
    const i = (x: string) => r.timeline.indexOf(x);
    expect(i('start c')).toBeLessThan(i('end b'));
    expect(i('start b')).toBeGreaterThan(i('check a'));
    expect(i('start d')).toBeGreaterThan(Math.max(i('check b'), i('check c')));
  });

  it('a failure on the second cluster stops the fleet there: the first is upgraded, the others untouched', async () => {
    const r = await fleet(['a', 'b', 'c'], {
      scripts: {
        b: {
          lines: failsAtUpgrade,
          exitCode: 1,
          stderr: 'error: step "hop1.upgrade" failed: nginx-meshctl upgrade exited 1',
        },
      },
    });
    expect(r.result.stopped).toEqual({
      context: 'b',
      why: 'step "hop1.upgrade" failed: nginx-meshctl upgrade exited 1',
      exitCode: 1,
    });
    expect(r.timeline).not.toContain('start c');
    expect(r.timeline.slice(-2)).toEqual(['end b', 'check b']); // where it is now, for the summary
    expect(r.record.clusters.a!.status).toBe('done');
    expect(r.record.clusters.b).toMatchObject({
      status: 'failed',
      exitCode: 1,
      step: 'hop1.upgrade',
      from: '1.7.0',
      now: '1.7.0',
    });
    expect(r.record.clusters.c!.status).toBe('pending');
    await expect(fs.readFile(path.join(r.dir, 'logs', 'b.log'), 'utf8')).resolves.toContain(
      'error: step "hop1.upgrade" failed',
    );
  });

  it('a run that exits 0 but leaves the cluster not converged stops the fleet with exit 4', async () => {
    const r = await fleet(['a', 'b'], {
      check: (ctx) => (ctx === 'a' ? '1 workload(s) run sidecars other than 2.0.0: shop/deployment/web' : undefined),
    });
    expect(r.result.stopped).toMatchObject({ context: 'a', exitCode: 4 });
    expect(r.timeline).not.toContain('start b');
    expect(r.record.clusters.a).toMatchObject({
      status: 'failed',
      step: 'verify',
      message: expect.stringContaining('shop/deployment/web'),
    });
  });

  it('--soak waits after the canary, checks it again, then goes on; a failed re-check stops the fleet', async () => {
    const good = await fleet(['a', 'b'], { settings: { soakMs: 60_000 } });
    expect(good.timeline).toEqual([
      'start a',
      'end a',
      'check a',
      'soak 60000',
      'check a',
      'start b',
      'end b',
      'check b',
    ]);
    expect(good.record.soak).toBe('passed');
    const bad = await fleet(['a', 'b'], {
      settings: { soakMs: 60_000 },
      check: (ctx, n) => (ctx === 'a' && n === 2 ? 'control plane not ready: nginx-mesh-controller 0/1' : undefined),
    });
    expect(bad.result.stopped).toMatchObject({
      context: 'a',
      exitCode: 1,
      why: expect.stringContaining('after the soak: control plane not ready'),
    });
    expect(bad.timeline).not.toContain('start b');
    expect(bad.record.soak).toBe('failed');
  });

  it('a resumed fleet whose canary is done but whose soak did not pass soaks first', async () => {
    const r = await fleet(['a', 'b'], {
      actions: { a: 'done' },
      resumeOf: [['a'], ['b']],
      settings: { soakMs: 5_000 },
    });
    expect(r.timeline).toEqual(['soak 5000', 'check a', 'start b', 'end b', 'check b']);
    const passed = await fleet(['a', 'b'], {
      actions: { a: 'done' },
      resumeOf: [['a'], ['b']],
      settings: { soakMs: 0 },
    });
    expect(passed.timeline).toEqual(['start b', 'end b', 'check b']);
  });

  it('an interrupted cluster resumes its own run; a canary already on the target is only checked', async () => {
    const r = await fleet(['a', 'b'], { actions: { a: 'up-to-date', b: 'resume' } });
    expect(r.timeline).toEqual(['start b', 'end b', 'check b']);
    expect(r.argsSeen.b!.slice(0, 2)).toEqual(['--resume', path.join(r.dir, 'b')]);
    const canary = await fleet(['a', 'b'], { actions: { a: 'up-to-date' } });
    expect(canary.timeline).toEqual(['start b', 'end b', 'check b']); // a is not the canary: the first that needs the upgrade is
  });

  it("-o json: every event of a cluster's run carries its context, between the fleet's own events", async () => {
    const r = await fleet(['a', 'b']);
    const b = r.events.filter((e) => e.context === 'b').map((e) => `${String(e.step)} ${String(e.event)}`);
    expect(b).toEqual([
      'cluster start',
      'preflight done',
      'confirm skipped',
      'lease done',
      'hop1.backup done',
      'hop1.upgrade done',
      'hop1.verify done',
      'verify done',
    ]);
    expect(r.events.filter((e) => e.step === 'wave').map((e) => e.wave)).toEqual([1, 2]);
    expect(Object.keys(r.events.find((e) => e.step === 'lease')!).slice(0, 3)).toEqual(['at', 'context', 'step']);
  });

  it('after the first Ctrl-C no other wave starts', async () => {
    const abort = new AbortController();
    const r = await fleet(['a', 'b'], {
      abort,
      check: (ctx) => {
        if (ctx === 'a') abort.abort();
        return undefined;
      },
    });
    expect(r.result.stopped).toMatchObject({ why: 'interrupted', exitCode: 130 });
    expect(r.timeline).not.toContain('start b');
  });
});
