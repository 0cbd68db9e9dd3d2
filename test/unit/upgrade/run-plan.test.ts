import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { StepError } from '../../../src/errors.ts';
import { LeaseLostError } from '../../../src/engine/lease.ts';
import { realClock } from '../../../src/clock.ts';
import { runPlan, type RunOptions } from '../../../src/engine/walk.ts';
import type { Plan } from '../../../src/engine/types.ts';

const plan: Plan = {
  from: '1.7.0',
  to: '2.0.0',
  namespace: 'nginx-mesh',
  method: 'meshctl',
  environment: 'kubernetes',
  release: 'nginx-service-mesh',
  warnings: [],
  refusals: [],
  hops: [
    {
      index: 1,
      from: '1.7.0',
      to: '2.0.0',
      strategy: 'in-place',
      reason: 'r',
      method: 'meshctl',
      steps: [
        {
          id: 'hop1.label-namespaces',
          kind: 'label-namespaces',
          title: 'Label 1 namespace',
          destructive: false,
          writes: true,
          commands: [],
          params: { namespaces: ['shop'], label: { a: 'b' } },
        },
      ],
    },
  ],
};

async function run(request: () => Promise<unknown>, over: Partial<RunOptions> = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'run-plan-'));
  const events: Record<string, unknown>[] = [];
  const deps = { fs, clock: realClock, kube: { request } } as unknown as Deps;
  const opts: RunOptions = {
    backupDir: dir,
    timeoutMs: 1000,
    concurrency: 1,
    restart: 'behind',
    deleteBarePods: false,
    output: 'json',
    runId: 'r1',
    signal: new AbortController().signal,
    start: {
      install: {} as never,
      inputs: { meshctlBinaries: {}, helm: undefined, chart: { kind: 'repo', ref: 'x' } } as never,
      cluster: { server: 's', uid: 'u' },
    },
    guard: { cluster: { server: 's', uid: 'u' }, leaseHeld: async () => undefined },
    emit: (l) => events.push(JSON.parse(l) as Record<string, unknown>),
    ...over,
  };
  const result = await runPlan(deps, plan, opts).then(
    (r) => r,
    (e: unknown) => e,
  );
  return { result, events, dir };
}

describe('runPlan', () => {
  it("names the plan step that failed, not the helper's own name, and keeps its hint", async () => {
    const { result } = await run(async () => {
      throw new StepError('helm-busy', 'release busy', 'repair the release');
    });
    expect(result).toBeInstanceOf(StepError);
    const e = result as StepError;
    expect(e.step).toBe('hop1.label-namespaces');
    expect(e.message).toBe('step "hop1.label-namespaces" failed: release busy');
    expect(e.hint).toMatch(/^repair the release\nCluster state: /);
    expect(e.hint).toContain('--resume');
  });
  it('an unexpected error is charged to the step that was running', async () => {
    const { result } = await run(async () => {
      throw new TypeError('boom');
    });
    expect((result as StepError).step).toBe('hop1.label-namespaces');
  });
  it('shows the gates as tasks before the steps, journals only once they passed, and a failed gate stops the run', async () => {
    const ok = await run(async () => ({}), {
      before: [
        { id: 'confirm', title: 'Confirmation', skip: '--yes given', run: async () => 'confirmed' },
        { id: 'lease', title: 'Lease', run: async () => 'held by run r1' },
      ],
    });
    expect(ok.events.map((e) => `${String(e.step)} ${String(e.event)}`)).toEqual([
      'confirm skipped',
      'lease start',
      'lease done',
      'hop1.label-namespaces start',
      'hop1.label-namespaces progress',
      'hop1.label-namespaces done',
    ]);
    expect(ok.events[2]).toMatchObject({ message: 'held by run r1' });
    const refused = await run(async () => ({}), {
      before: [
        {
          id: 'lease',
          title: 'Lease',
          run: async () => {
            throw new Error('held by another run');
          },
        },
      ],
    });
    expect((refused.result as Error).message).toBe('held by another run');
    await expect(fs.readdir(refused.dir)).resolves.toEqual([]); // no journal: nothing was started
  });
  it('fencing: a step that changes the cluster does not start when the run no longer holds its lease', async () => {
    let requests = 0;
    const { result } = await run(
      async () => {
        requests++;
        return {};
      },
      {
        guard: {
          cluster: { server: 's', uid: 'u' },
          leaseHeld: async () => {
            throw new LeaseLostError('lease default/nsm-upgrade.nginx-mesh: taken over by other-host/pid-1/r2');
          },
        },
      },
    );
    expect(requests).toBe(0);
    expect((result as StepError).step).toBe('hop1.label-namespaces');
    expect((result as StepError).message).toContain('taken over by other-host/pid-1/r2');
  });
  it('a run stopped by a lost lease says so, not "interrupted"', async () => {
    const abort = new AbortController();
    abort.abort(new LeaseLostError('lease default/nsm-upgrade.nginx-mesh: not renewed for 31s (last error: 503)'));
    const { result } = await run(async () => ({}), { signal: abort.signal });
    expect((result as StepError).message).toContain('not renewed for 31s');
  });
});
