import fs from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runStillAlive } from '../../../src/fleet/resume.ts';

describe('a run of the interrupted fleet: still alive?', () => {
  it('alive while its process runs with its cluster directory; not once it ended, nor for a pid another program has', async () => {
    const run = spawn('sh', ['-c', 'sleep 30', 'kubectl-nsm_upgrade', '--backup-dir', '/tmp/fleet/nsm-local'], {
      stdio: 'ignore',
    });
    await new Promise((r) => run.once('spawn', r));
    expect(await runStillAlive({ fs }, run.pid!, '/tmp/fleet/nsm-local')).toBe(true);
    expect(await runStillAlive({ fs }, run.pid!, '/tmp/fleet/nsm-local-2')).toBe(process.platform !== 'linux'); // /proc names what it runs
    expect(await runStillAlive({ fs }, process.pid, '/tmp/fleet/nsm-local')).toBe(process.platform !== 'linux');
    const exited = new Promise((r) => run.once('exit', r));
    run.kill('SIGKILL');
    await exited;
    expect(await runStillAlive({ fs }, run.pid!, '/tmp/fleet/nsm-local')).toBe(false);
  });
});
