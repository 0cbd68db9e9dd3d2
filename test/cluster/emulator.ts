import fs from 'node:fs';
import path from 'node:path';
import { startDetached, waitUntil, type Started } from './processes.ts';
import { repoRoot } from './tools.ts';
import { egressSocketPath } from './state.ts';

/**
 * Starts the mesh emulator (test/emulator/main.ts) in the background when it exists, and waits
 * until it has written its port. Returns undefined when the emulator is not part of this tree.
 */
export async function startEmulator(kubeconfig: string, stateDir: string, logs: string): Promise<Started | undefined> {
  const main = path.join(repoRoot, 'test/emulator/main.ts');
  if (!fs.existsSync(main) || process.env.NSM_NO_EMULATOR === '1') return undefined;
  const node = path.join(repoRoot, 'node_modules/node/bin/node');
  const portFile = path.join(stateDir, 'emulator.port');
  fs.rmSync(portFile, { force: true });
  const started = startDetached(
    'mesh-emulator',
    fs.existsSync(node) ? node : process.execPath,
    [main, '--kubeconfig', kubeconfig, '--state-dir', stateDir, '--egress-socket', egressSocketPath()],
    path.join(logs, 'mesh-emulator.log'),
  );
  fs.writeFileSync(path.join(stateDir, 'emulator.pid'), String(started.pid) + '\n', { mode: 0o600 });
  await waitUntil('the mesh emulator', async () => fs.existsSync(portFile), {
    timeoutMs: 60_000,
    log: started.log,
    pid: started.pid,
  });
  return started;
}
