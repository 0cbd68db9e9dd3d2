import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { clusterDir, kubeconfigPath, repoRoot } from '../support/cluster.ts';

/**
 * The mesh emulator the emulator tests talk to: the cluster's own instance when one is running
 * (.cluster/emulator.pid alive), else a private one started here and stopped afterwards; the
 * private one serves the cluster's egress socket (.cluster/egress.sock), since the API server
 * reaches the mesh's pods only through it. `npm run cluster:up` restarts the cluster's instance
 * whenever the emulator's code changed, so there is no need for two at once.
 */
export interface EmulatorUnderTest {
  port: number;
  caPem: string;
  /** Set when this test started the emulator. */
  own?: { child: ChildProcess; stateDir: string; output: () => string; exitCode: Promise<number | null> };
}

function alive(pidFile: string): boolean {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (!pid) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForFile(file: string, timeoutMs: number, why: () => string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${file} did not appear within ${timeoutMs} ms: ${why()}`);
}

export async function useEmulator(scope: Record<string, string>): Promise<EmulatorUnderTest> {
  const shared = !process.env.TEST_KUBECONFIG && alive(path.join(clusterDir, 'emulator.pid'));
  if (shared) {
    const port = Number(
      await waitForFile(
        path.join(clusterDir, 'emulator.port'),
        60_000,
        () => 'the cluster emulator runs but wrote no port',
      ),
    );
    return { port, caPem: fs.readFileSync(path.join(clusterDir, 'emulator-pki/ca.crt'), 'utf8') };
  }
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-emulator-test-'));
  const node = path.join(repoRoot, 'node_modules/node/bin/node');
  const child = spawn(
    fs.existsSync(node) ? node : process.execPath,
    [
      path.join(repoRoot, 'test/emulator/main.ts'),
      '--kubeconfig',
      kubeconfigPath(),
      '--state-dir',
      stateDir,
      ...(process.env.TEST_KUBECONFIG
        ? Object.entries(scope).flatMap(([k, v]) => ['--scope', `${k}=${v}`])
        : ['--egress-socket', path.join(clusterDir, 'egress.sock')]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exitCode = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const port = Number(await waitForFile(path.join(stateDir, 'emulator.port'), 60_000, () => out));
  return {
    port,
    caPem: fs.readFileSync(path.join(stateDir, 'emulator-pki/ca.crt'), 'utf8'),
    own: { child, stateDir, output: () => out, exitCode },
  };
}

/** Stops an emulator this test started; returns its exit code (SIGTERM must give 0). */
export async function stopEmulator(e: EmulatorUnderTest): Promise<number | null | undefined> {
  if (!e.own) return undefined;
  e.own.child.kill('SIGTERM');
  const code = await e.own.exitCode;
  fs.rmSync(e.own.stateDir, { recursive: true, force: true });
  return code;
}

/** Polls until check returns a value other than undefined/false, or fails naming what it waited for. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
