/**
 * The test bed's OCI registry: the CNCF registry (github.com/distribution/distribution/v3, built by
 * build-registry.sh from test/cluster/registry) on 127.0.0.1 only, TLS from the cluster CA, htpasswd
 * (bcrypt) auth, deletes enabled, storage on disk in .cluster/registry/data. It serves, under the mirror
 * path `127.0.0.1:<port>/nsm` (NSM_REGISTRY; the vendor's own is docker-registry.nginx.com/nsm), a small
 * real OCI image (an index with linux/amd64 and linux/arm64 manifests) for every image the reference
 * charts 1.5.0..2.0.0 name when installed with `registry.server=$NSM_REGISTRY` and
 * `registry.disablePublicImages=true` (chart-images.ts).
 *
 * CLUSTER-NOTES
 * - Only the first cluster has a registry (the extra clusters of `--clusters N` set NSM_NO_REGISTRY).
 * - The registry reads REGISTRY_* variables as configuration and OTEL_* for tracing: it is started with
 *   a bare environment (tracing export off) so nothing from the user's shell changes it.
 * - The htpasswd file must exist before the registry starts: without it the registry makes a user of its
 *   own and prints its password.
 * - Publishing is idempotent: one HEAD per image on a warm start, a push only where the tag is missing or
 *   names other content (a test that deleted or replaced a tag and died is repaired by the next cluster:up).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execa } from 'execa';
import { dump } from 'js-yaml';
import { createServingCert, type Pki } from './pki.ts';
import { freePort, isAlive, startDetached, stopAll, waitUntil } from './processes.ts';
import { cacheRoot } from './tools.ts';
import { imageList, referenceChartsDir } from './chart-images.ts';
import type { ClusterState, RegistryState } from './state.ts';

/** The mirror path under the registry's host:port, as docker-registry.nginx.com/nsm is the vendor's. */
export const mirrorPath = 'nsm';
export const registryUser = 'nsm-test';

/** Whether this cluster gets a registry: the extra clusters of `--clusters N` set NSM_NO_REGISTRY=1. */
export function registryWanted(): boolean {
  return process.env.NSM_NO_REGISTRY !== '1';
}

/** Builds (or finds cached) the registry binary; its path. */
export async function ensureRegistryBinary(): Promise<string> {
  const res = await execa('bash', [path.join(import.meta.dirname, 'build-registry.sh')], {
    stderr: 'inherit',
    env: { NSM_UPGRADE_CACHE: cacheRoot },
  });
  const bin = res.stdout.trim().split('\n').pop()!;
  if (!fs.existsSync(bin)) throw new Error(`build-registry.sh did not produce ${bin}`);
  return bin;
}

/** The client environment of the registry (what .cluster/env exports), password included. */
export function registryEnv(reg: RegistryState): Record<string, string> {
  return {
    NSM_REGISTRY: `${reg.address}/${mirrorPath}`,
    NSM_REGISTRY_USERNAME: reg.username,
    NSM_REGISTRY_PASSWORD: fs.readFileSync(reg.passwordFile, 'utf8').trim(),
    NSM_REGISTRY_CA: reg.ca,
    NSM_REGISTRY_TOOL: reg.tool,
    NSM_REGISTRY_IMAGES: reg.images,
  };
}

/** Writes the config, htpasswd and password (once) for a registry on `port`. */
async function prepare(
  dir: string,
  pki: Pki,
  tool: string,
  port: number,
): Promise<{ config: string; passwordFile: string }> {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true, mode: 0o700 });
  const passwordFile = path.join(dir, 'password');
  if (!fs.existsSync(passwordFile))
    fs.writeFileSync(passwordFile, crypto.randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  const htpasswd = path.join(dir, 'htpasswd');
  await execa(tool, ['htpasswd', htpasswd, registryUser], { input: fs.readFileSync(passwordFile, 'utf8') });
  const tls = await createServingCert(pki, 'registry', 'nsm-test-registry');
  const config = path.join(dir, 'config.yml');
  // Defaults read in the registry's configuration docs: validation of index children on (kept), no
  // storage health check, no debug server, no notifications, no proxy. Set here: loopback only, TLS,
  // deletes, no background upload purging, warnings plus one access-log line per request.
  fs.writeFileSync(
    config,
    dump({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: path.join(dir, 'data') },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: `127.0.0.1:${port}`,
        net: 'tcp',
        secret: crypto.randomBytes(24).toString('hex'),
        tls: { certificate: tls.cert, key: tls.key, minimumtls: 'tls1.2' },
        headers: { 'X-Content-Type-Options': ['nosniff'] },
      },
      auth: { htpasswd: { realm: 'nsm-test-registry', path: htpasswd } },
    }),
    { mode: 0o600 },
  );
  return { config, passwordFile };
}

/** GET /v2/ without credentials: the registry is up when it answers 401 (auth required). */
function ping(address: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(`https://${address}/v2/`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** Starts the registry (on the port it had, if any) and records it in `state`; returns its state. */
async function start(
  state: ClusterState,
  clusterDir: string,
  pki: Pki,
  tool: string,
  writeState: (s: ClusterState) => void,
): Promise<RegistryState> {
  const dir = path.join(clusterDir, 'registry');
  const port = state.registry?.port ?? (await freePort());
  const { config, passwordFile } = await prepare(dir, pki, tool, port);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  };
  const started = startDetached(
    'registry',
    tool,
    ['serve', config],
    path.join(clusterDir, 'logs', 'registry.log'),
    env,
  );
  const reg: RegistryState = {
    address: `127.0.0.1:${port}`,
    port,
    username: registryUser,
    passwordFile,
    ca: pki.caCert,
    tool,
    images: path.join(dir, 'images.json'),
  };
  state.processes = [
    ...state.processes.filter((p) => p.name !== 'registry'),
    { ...started, startedAt: new Date().toISOString() },
  ];
  state.registry = reg;
  writeState(state);
  const ca = fs.readFileSync(pki.caCert);
  await waitUntil(`the registry at https://${reg.address}/v2/`, async () => (await ping(reg.address, ca)) === 401, {
    timeoutMs: 30_000,
    log: started.log,
    pid: started.pid,
  });
  return reg;
}

/**
 * Starts the registry when it is not running (or its binary changed), then publishes the charts' images
 * (skipping those already there). `say` reports; a registry that cannot start or publish throws.
 */
export async function ensureRegistry(
  state: ClusterState,
  clusterDir: string,
  pki: Pki,
  tool: string,
  helm: string,
  writeState: (s: ClusterState) => void,
  say: (m: string) => void,
): Promise<void> {
  const t0 = Date.now();
  const running = state.processes.find((p) => p.name === 'registry');
  let reg = state.registry;
  if (!reg || !running || !isAlive(running.pid) || reg.tool !== tool) {
    if (running && isAlive(running.pid)) await stopAll([running.pid]);
    reg = await start(state, clusterDir, pki, tool, writeState);
    say(
      `started the registry at https://${reg.address}/${mirrorPath} (pid ${state.processes.find((p) => p.name === 'registry')!.pid})`,
    );
  }
  const charts = referenceChartsDir();
  const list = fs.existsSync(charts)
    ? await imageList(helm, charts, `${reg.address}/${mirrorPath}`, cacheRoot, reg.images)
    : undefined;
  if (!list || !Object.keys(list.versions).length) {
    say(`registry: no reference charts in ${charts} (set NSM_REFERENCE_CHARTS): nothing published`);
    return;
  }
  const all = [...new Set(Object.values(list.versions).flat())];
  const refs = all.filter((r) => r.startsWith(`${list.mirror}/`));
  const outside = all.filter((r) => !refs.includes(r));
  if (outside.length)
    say(
      `registry: the charts name images outside the mirror even with registry.disablePublicImages (not served here): ${outside.join(', ')}`,
    );
  const res = await execa(tool, ['publish', '-'], {
    input: refs.join('\n'),
    env: { ...registryEnv(reg) },
    extendEnv: false,
    reject: false,
  });
  if (res.exitCode !== 0) throw new Error(`publishing the charts' images failed:\n${res.stderr}`);
  const done = JSON.parse(res.stdout) as { pushed: number; present: number; seconds: number };
  say(
    `registry: ${refs.length} images of charts ${Object.keys(list.versions).join(', ')} (${done.pushed} pushed, ${done.present} already there; publish ${done.seconds.toFixed(1)}s) in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
}
