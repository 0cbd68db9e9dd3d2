import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pidRuns } from '../../src/process-alive.ts';
import { holderIsDeadHere } from '../../src/engine/lease.ts';

const hasProc = fs.existsSync('/proc/self/stat');

describe('does a pid run?', () => {
  it('a running process runs; an ended one does not', async () => {
    const p = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => p.once('spawn', r));
    expect(pidRuns(p.pid!)).toBe(true);
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    expect(pidRuns(p.pid!)).toBe(false);
  });

  it('reads the state after the last ")" of /proc/PID/stat, whatever the command name holds', () => {
    expect(pidRuns(process.pid, () => `${process.pid} (a) b) Z 1 2 3`)).toBe(false);
    expect(pidRuns(process.pid, () => `${process.pid} (node) S 1 2 3`)).toBe(true);
    expect(
      pidRuns(process.pid, () => {
        throw new Error('no /proc');
      }),
    ).toBe(true);
  });

  // A zombie needs a parent that does not reap: `sh` backgrounds a short child, then becomes `sleep`.
  it.skipIf(!hasProc)(
    "a zombie (killed, never reaped) does not run, so a killed run's lease can be taken over at once",
    async () => {
      const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 20'], { stdio: ['ignore', 'pipe', 'ignore'] });
      const zombie = Number((await new Promise<Buffer>((r) => parent.stdout.once('data', r))).toString().trim());
      try {
        let state = '';
        for (let i = 0; i < 50 && state !== 'Z'; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const stat = fs.readFileSync(`/proc/${zombie}/stat`, 'utf8');
          state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        }
        expect(state).toBe('Z');
        expect(() => process.kill(zombie, 0)).not.toThrow(); // kill(pid, 0) alone calls it alive
        expect(pidRuns(zombie)).toBe(false);
        expect(holderIsDeadHere(`host-a/pid-${zombie}/run1`, 'host-a')).toBe(true);
      } finally {
        parent.kill('SIGKILL');
      }
    },
  );
});
