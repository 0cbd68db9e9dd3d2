/**
 * Saves and restores the whole state of a local test cluster: its etcd data directory. A save stops etcd
 * alone for the copy, about a second (the API server retries meanwhile; the data it finds is unchanged). A restore puts the saved data back
 * and restarts every component with its own command line (read from /proc), so the API server's caches,
 * the controllers, KWOK and the mesh emulator all start from the restored state as after a reboot; nothing
 * of what came between survives. What a test saw when the state was saved comes back exactly: every object
 * with its uid, managedFields and status, Helm's release secrets, the webhooks' caBundle, Running pods and
 * their IPs.
 *
 * Two things do not live in etcd and are taken care of here: KWOK hands out pod IPs from a pool it keeps
 * in memory, so a restarted KWOK would give new pods the IPs of restored ones (the emulator could then not
 * tell them apart); each restart gives KWOK a pod range of its own (podCidr). And the emulator's leader
 * lease names the emulator that ran when the state was saved: it is deleted from the restored data, so the
 * new emulator leads at once instead of waiting for the old lease to expire.
 *
 * The snapshots live in <cluster dir>/snapshots/<name>/ and go with the cluster (`cluster:down`).
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { waitUntil } from './processes.ts';

interface Proc {
  name: string;
  pid: number;
  log: string;
  startedAt?: string;
}
interface State {
  server: string;
  processes: Proc[];
  [k: string]: unknown;
}
interface Running extends Proc {
  argv: string[];
  env: NodeJS.ProcessEnv;
}

export function snapshotDir(clusterDir: string, name: string): string {
  return path.join(clusterDir, 'snapshots', name);
}

export function hasSnapshot(clusterDir: string, name: string): boolean {
  return fs.existsSync(path.join(snapshotDir(clusterDir, name), 'etcd'));
}

/**
 * The pod range KWOK gets at its restart number `n` (1, 2, ...): a /20 of 10.64.0.0/10, away from
 * cluster:up's 10.244.0.0/16 and the services' 10.0.0.0/24. 4094 pods per restart is more than a test makes.
 */
export function podCidr(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new Error(`KWOK restart ${n}: expected 1..1024 (restart the cluster)`);
  const block = n - 1;
  return `10.${64 + (block >> 4)}.${(block & 15) << 4}.0/20`;
}

/** The etcd key of the mesh emulator's leader lease (test/emulator/leader.ts). */
export const emulatorLeaseKey = '/registry/leases/kube-system/nsm-mesh-emulator';

const readState = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as State;
const writeState = (dir: string, state: State, procs: Running[]) => {
  state.processes = procs.map(({ argv: _a, env: _e, ...p }) => p);
  fs.writeFileSync(path.join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
};

/** Alive and not a zombie (a component whose parent exited is reaped by nobody here). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Each component's command line and environment, from /proc (so a restart is exactly the same process). */
function running(state: State): Running[] {
  return state.processes.map((p) => {
    if (!alive(p.pid))
      throw new Error(
        `cluster component ${p.name} (pid ${p.pid}) is not running: npm run cluster:down && npm run cluster:up`,
      );
    const argv = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    const env = Object.fromEntries(
      fs
        .readFileSync(`/proc/${p.pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
    return { ...p, argv, env };
  });
}

async function kill(procs: Running[], signal: NodeJS.Signals): Promise<void> {
  for (const p of procs) {
    try {
      process.kill(p.pid, signal);
    } catch {
      /* gone */
    }
  }
  await waitUntil(`${procs.map((p) => p.name).join(', ')} to stop`, async () => procs.every((p) => !alive(p.pid)), {
    timeoutMs: 60_000,
  });
}

/** Starts a component again with its own command line (`argv` may change it) and records its pid. */
function respawn(dir: string, p: Running, argv = p.argv): void {
  if (p.name === 'mesh-emulator') fs.rmSync(path.join(dir, 'emulator.port'), { force: true });
  const fd = fs.openSync(p.log, 'a', 0o600);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: p.env });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not restart ${p.name}`);
  child.unref();
  p.pid = child.pid;
  p.startedAt = new Date().toISOString();
  if (p.name === 'mesh-emulator') fs.writeFileSync(path.join(dir, 'emulator.pid'), `${p.pid}\n`, { mode: 0o600 });
}

const etcdUrl = (p: Running) => p.argv[p.argv.indexOf('--listen-client-urls') + 1]!;

async function startEtcd(dir: string, etcd: Running): Promise<void> {
  respawn(dir, etcd);
  await waitUntil('etcd health', async () => (await fetch(`${etcdUrl(etcd)}/health`)).ok, {
    timeoutMs: 60_000,
    log: etcd.log,
    pid: etcd.pid,
  });
}

function apiReady(server: string, dir: string): Promise<boolean> {
  const pki = (f: string) => fs.readFileSync(path.join(dir, 'pki', f));
  return new Promise((resolve) => {
    const req = https.get(
      `${server}/readyz`,
      { ca: pki('ca.crt'), cert: pki('admin.crt'), key: pki('admin.key'), timeout: 5000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** The next KWOK restart number of this cluster, counted in <cluster dir>/kwok-restarts. */
function nextKwokRestart(dir: string): number {
  const file = path.join(dir, 'kwok-restarts');
  const n = (fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0) + 1;
  fs.writeFileSync(file, `${n}\n`);
  return n;
}

/**
 * Saves the cluster's state as `name`: etcd is stopped for the copy and started again on the same data.
 * SIGKILL, not SIGTERM (which takes etcd about 7 s): etcd syncs its log before it acknowledges a write, so
 * what it leaves on a kill is what it recovers from after a crash, every acknowledged write included.
 */
export async function saveCluster(dir: string, name: string): Promise<void> {
  const state = readState(dir);
  const procs = running(state);
  const etcd = procs.find((p) => p.name === 'etcd')!;
  await kill([etcd], 'SIGKILL');
  const target = snapshotDir(dir, name);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  try {
    fs.cpSync(path.join(dir, 'etcd'), path.join(target, 'etcd.tmp'), { recursive: true });
    fs.renameSync(path.join(target, 'etcd.tmp'), path.join(target, 'etcd'));
  } finally {
    await startEtcd(dir, etcd);
    writeState(dir, state, procs);
  }
}

/** Puts the cluster back in the state saved as `name`: everything after it is gone. */
export async function restoreCluster(dir: string, name: string): Promise<void> {
  const saved = path.join(snapshotDir(dir, name), 'etcd');
  if (!fs.existsSync(saved)) throw new Error(`no saved cluster state ${name} in ${path.dirname(saved)}`);
  const state = readState(dir);
  const procs = running(state);
  // Nothing of theirs needs keeping, so no grace (the API server takes its time over SIGTERM).
  await kill(procs, 'SIGKILL');
  fs.rmSync(path.join(dir, 'etcd'), { recursive: true, force: true });
  fs.cpSync(saved, path.join(dir, 'etcd'), { recursive: true });
  const now = new Date();
  fs.utimesSync(path.dirname(saved), now, now);
  const [etcd, ...rest] = procs;
  if (etcd?.name !== 'etcd') throw new Error(`${path.join(dir, 'state.json')}: etcd is not the first component`);
  await startEtcd(dir, etcd);
  const deleted = await fetch(`${etcdUrl(etcd)}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from(emulatorLeaseKey).toString('base64') }),
  });
  if (!deleted.ok) throw new Error(`etcd: deleting ${emulatorLeaseKey} answered ${deleted.status}`);
  // The API server and the emulator first: the emulator retries until the API server answers, so its
  // start-up (certificates, Node) overlaps the API server's. The controller-manager gives up when the API
  // server is not healthy within seconds of its start, so it and the rest start once it is ready.
  const first = (p: Running) => p.name === 'kube-apiserver' || p.name === 'mesh-emulator';
  for (const p of rest.filter(first)) respawn(dir, p);
  writeState(dir, state, procs);
  const api = procs.find((p) => p.name === 'kube-apiserver')!;
  await waitUntil('kube-apiserver /readyz', () => apiReady(state.server, dir), {
    timeoutMs: 120_000,
    log: api.log,
    pid: api.pid,
  });
  for (const p of rest.filter((p) => !first(p))) {
    const i = p.argv.indexOf('--cidr');
    respawn(
      dir,
      p,
      p.name === 'kwok' ? [...p.argv.slice(0, i + 1), podCidr(nextKwokRestart(dir)), ...p.argv.slice(i + 2)] : p.argv,
    );
  }
  writeState(dir, state, procs);
  const emulator = procs.find((p) => p.name === 'mesh-emulator');
  if (emulator)
    await waitUntil('the mesh emulator', async () => fs.existsSync(path.join(dir, 'emulator.port')), {
      timeoutMs: 120_000,
      log: emulator.log,
      pid: emulator.pid,
    });
  // A component that exits at start-up leaves a cluster that only looks up: say so here, not in a later test.
  await new Promise((r) => setTimeout(r, 1000));
  const dead = procs.filter((p) => !alive(p.pid));
  if (dead.length) {
    const tail = (p: Running) => fs.readFileSync(p.log, 'utf8').split('\n').slice(-5).join('\n');
    throw new Error(
      `restoring ${name}: ${dead.map((p) => p.name).join(', ')} exited at start-up (npm run cluster:down && npm run cluster:up)\n${dead.map((p) => `--- ${p.log}\n${tail(p)}`).join('\n')}`,
    );
  }
}
