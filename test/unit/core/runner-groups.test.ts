/**
 * External commands run in their own process group: the Ctrl-C that a terminal sends to the tool's
 * whole group does not reach a running helm/nginx-meshctl, which finishes unless the tool itself
 * stops it (stopAll, on a second Ctrl-C), and then its children go too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const driver = path.resolve(import.meta.dirname, '../../fixtures/runner/driver.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-runner-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Starts the driver as the leader of a new process group, as a shell starts a foreground job. */
function startTool(mode: 'wait' | 'stop', script: string) {
  return execa(process.execPath, [driver, mode, 'sh', '-c', script], {
    detached: true,
    reject: false,
    all: true,
    buffer: true,
  });
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runner process groups', () => {
  it("a Ctrl-C to the tool's process group lets the running command finish", async () => {
    const marker = path.join(tmp, 'started-wait');
    const tool = startTool('wait', `touch ${marker}; sleep 1.5; echo finished`);
    await until(() => fs.existsSync(marker));
    process.kill(-tool.pid!, 'SIGINT'); // what the terminal does on Ctrl-C
    const r = await tool;
    expect(r.all).toContain('signal');
    const last = JSON.parse(String(r.stdout).trim().split('\n').pop()!) as { exitCode: number; stdout: string };
    expect(last).toMatchObject({ exitCode: 0, stdout: 'finished' });
  }, 20_000);

  it('stopAll ends the running command and what it started, and waits for them', async () => {
    const marker = path.join(tmp, 'started-stop');
    const pidFile = path.join(tmp, 'grandchild.pid');
    const tool = startTool('stop', `sleep 60 & echo $! > ${pidFile}; touch ${marker}; wait`);
    await until(() => fs.existsSync(marker) && fs.existsSync(pidFile));
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(alive(grandchild)).toBe(true);
    const t0 = Date.now();
    process.kill(-tool.pid!, 'SIGINT');
    const r = await tool;
    expect(Date.now() - t0).toBeLessThan(5_000);
    const last = JSON.parse(String(r.stdout).trim().split('\n').pop()!) as { exitCode: number };
    expect(last.exitCode).not.toBe(0);
    await until(() => !alive(grandchild), 3_000);
  }, 20_000);
});
