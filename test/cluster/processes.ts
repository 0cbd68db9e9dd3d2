import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';

export interface Started {
  name: string;
  pid: number;
  log: string;
}

/** Starts a long-running component detached from this process, its output in `log`. */
export function startDetached(
  name: string,
  bin: string,
  args: string[],
  log: string,
  env: NodeJS.ProcessEnv = process.env,
): Started {
  const fd = fs.openSync(log, 'a', 0o600);
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
  child.unref();
  return { name, pid: child.pid, log };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The lowest port the kernel hands to outgoing connections (net.ipv4.ip_local_port_range), 32768 if unknown. */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const handedOut = new Set<number>();
function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 (loopback only), below the kernel's range for outgoing connections: a saved
 * mesh's restore (snapshot.ts) stops etcd and the API server and starts them again on the same ports, and a
 * port from that range could meanwhile be taken by any outgoing connection (a run once failed so: etcd's
 * "bind: address already in use" on restart).
 */
export async function freePort(): Promise<number> {
  const low = 10_000;
  const span = ephemeralLow() - low;
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * span);
    if (handedOut.has(port) || !(await listenable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found on 127.0.0.1 between ${low} and ${low + span}`);
}

/** Polls `check` until it returns true, failing with `what` and the log's tail after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; log?: string; pid?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (opts.pid !== undefined && !isAlive(opts.pid)) break;
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail =
    opts.log && fs.existsSync(opts.log) ? fs.readFileSync(opts.log, 'utf8').split('\n').slice(-15).join('\n') : '';
  const dead = opts.pid !== undefined && !isAlive(opts.pid) ? ' (the process exited)' : '';
  throw new Error(`timed out waiting for ${what}${dead}${tail ? `\n--- last lines of ${opts.log} ---\n${tail}` : ''}`);
}

/** Stops processes by pid: SIGTERM, then SIGKILL after a grace period. */
export async function stopAll(pids: number[], graceMs = 5000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
