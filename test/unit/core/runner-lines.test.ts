/**
 * The runner follows a long command line by line (the fleet drives each cluster's task group from
 * its run's JSON events as they come) and passes a signal on to every running command's group.
 */
import { describe, expect, it } from 'vitest';
import { createRunner } from '../../../src/exec/runner.ts';
import { memoryLog } from '../../../src/log.ts';

describe('runner: lines as they come, signals passed on', () => {
  it('shows each stdout and stderr line while the command runs, and still returns all of it', async () => {
    const runner = createRunner({ dryRun: false, log: memoryLog() });
    const seen: { line: string; stream: string; at: number }[] = [];
    const t0 = Date.now();
    let pid = 0;
    const r = await runner.run(
      { bin: 'sh', args: ['-c', 'echo one; echo warn >&2; sleep 0.4; printf "two\\nthree"'], writes: false },
      {
        onLine: (line, stream) => seen.push({ line, stream, at: Date.now() - t0 }),
        onStart: (p) => {
          pid = p;
        },
      },
    );
    expect(pid).toBeGreaterThan(0);
    expect(seen.map((s) => `${s.stream}:${s.line}`)).toEqual([
      'stdout:one',
      'stderr:warn',
      'stdout:two',
      'stdout:three',
    ]);
    // "one" arrived before the command slept, not when it ended.
    expect(seen[2]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'one\ntwo\nthree', stderr: 'warn' });
  });

  it('without hooks the result is as before', async () => {
    const r = await createRunner({ dryRun: false, log: memoryLog() }).run({
      bin: 'sh',
      args: ['-c', 'echo a; echo b; exit 3'],
      writes: false,
    });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'a\nb' });
  });

  it('signalAll reaches the running command, which decides what to do with it', async () => {
    const runner = createRunner({ dryRun: false, log: memoryLog() });
    let started!: () => void;
    const ready = new Promise<void>((r) => {
      started = r;
    });
    const run = runner.run(
      {
        bin: 'sh',
        args: ['-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'],
        writes: false,
      },
      {
        onLine: (line) => {
          if (line === 'ready') started();
        },
      },
    );
    await ready;
    runner.signalAll('SIGTERM');
    const r = await run;
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toContain('got-term');
  });
});
