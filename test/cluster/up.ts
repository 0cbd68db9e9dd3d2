// npm run cluster:up — starts a real local Kubernetes control plane (etcd, kube-apiserver with TLS,
// controller-manager, scheduler) with KWOK playing two nodes, on loopback ports only, plus the
// mesh emulator when present. Idempotent: a running cluster is reused.
// `npm run cluster:up -- --clusters 2` starts a second, independent cluster beside it (more-clusters.ts).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import https from 'node:https';
import { execa } from 'execa';
import { adminKubeconfig, createPki } from './pki.ts';
import { componentSpecs, egressSelectorConfig, type Layout } from './components.ts';
import { freePort, isAlive, startDetached, stopAll, waitUntil } from './processes.ts';
import { ensureClusterBinaries, ensureHelm, ensureRealMeshctl, repoRoot } from './tools.ts';
import {
  clusterDir,
  clusterName,
  egressSocketPath,
  readState,
  writeEnvFile,
  writeState,
  type ClusterState,
} from './state.ts';
import { startEmulator } from './emulator.ts';
import { forgetDiscovery } from './discovery-cache.ts';
import { parseClusterCount, upMoreClusters } from './more-clusters.ts';
import { ensureRegistry, ensureRegistryBinary, registryWanted } from './registry.ts';

const say = (m: string) => process.stderr.write(`cluster: ${m}\n`);

function get(url: string, pki: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: pki.ca, cert: pki.cert, key: pki.key, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** The newest modification time of the emulator's sources (its own and the API client it uses). */
function emulatorSourcesMtime(): number {
  const dirs = ['test/emulator', 'src/kube'].map((d) => path.join(repoRoot, d)).filter((d) => fs.existsSync(d));
  return Math.max(0, ...dirs.flatMap((dir) => fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs)));
}

async function alreadyUp(): Promise<boolean> {
  const st = readState();
  if (!st) return false;
  const isEmulator = (p: { name: string }) => p.name === 'mesh-emulator';
  // The emulator and the registry are restarted below when dead; the rest needs a new cluster.
  const dead = st.processes.filter((p) => !isAlive(p.pid) && !isEmulator(p) && p.name !== 'registry');
  if (dead.length) {
    say(
      `a previous cluster is partly dead (${dead.map((p) => p.name).join(', ')}); run \`npm run cluster:down\` first, then up again`,
    );
    process.exit(1);
  }
  if (!st.egressSocket) {
    say(
      'this cluster was started before the API server reached the mesh through the egress proxy (the mesh emulator serves it);',
    );
    say('restart it: npm run cluster:down && npm run cluster:up');
    process.exit(1);
  }
  // Real nginx-meshctl built since the cluster started (or rebuilt from changed source): record them.
  const meshctl = await ensureRealMeshctl(say);
  if (JSON.stringify(meshctl) !== JSON.stringify(st.meshctl ?? {})) {
    st.meshctl = meshctl;
    writeState(st);
    writeEnvFile(st);
    say(`real nginx-meshctl: ${Object.keys(meshctl).join(', ') || 'none'}`);
  }
  // The emulator is a test double under development: (re)start it when it is missing, dead, or older than its code.
  const emu = st.processes.find(isEmulator);
  const stale =
    emu !== undefined && isAlive(emu.pid) && Date.parse(emu.startedAt ?? st.startedAt) < emulatorSourcesMtime();
  if (!emu || !isAlive(emu.pid) || stale) {
    if (emu && isAlive(emu.pid)) {
      await stopAll([emu.pid]);
      say('stopped the mesh emulator: its code changed since it started');
    }
    st.processes = st.processes.filter((p) => !isEmulator(p));
    const emulator = await startEmulator(
      path.join(clusterDir, 'kubeconfig'),
      clusterDir,
      path.join(clusterDir, 'logs'),
    );
    if (emulator) {
      st.processes.push({ ...emulator, startedAt: new Date().toISOString() });
      say(`started mesh emulator (pid ${emulator.pid})`);
    }
    writeState(st);
  }
  if (registryWanted()) {
    const pki = await createPki(path.join(clusterDir, 'pki'));
    await ensureRegistry(st, clusterDir, pki, await ensureRegistryBinary(), st.helm.HELM3!, writeState, say);
    writeEnvFile(st);
  }
  say(`already up at ${st.server} (KUBECONFIG=${path.join(clusterDir, 'kubeconfig')})`);
  return true;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  if (await alreadyUp()) return;
  say(
    'real nginx-meshctl: building or reusing 1.7.0 and 2.0.0 from the shared vendor source (test/cluster/build-meshctl.sh)',
  );
  // The Go builds at once: on a cold cache each spends part of its time downloading modules and linking on one
  // core, which the others' compiles fill (each build's lines name it; Go's caches allow concurrent builds).
  const [bin, helm, meshctl, registryTool] = await Promise.all([
    ensureClusterBinaries(),
    ensureHelm(),
    ensureRealMeshctl(say),
    registryWanted() ? ensureRegistryBinary() : undefined,
  ]);
  for (const [v, p] of Object.entries(meshctl)) say(`real nginx-meshctl ${v}: ${p}`);
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const egressConfig = path.join(clusterDir, 'egress-selector.yaml');
  fs.writeFileSync(egressConfig, egressSelectorConfig(egressSocketPath()), { mode: 0o600 });
  const pki = await createPki(path.join(clusterDir, 'pki'));
  const layout: Layout = {
    dir: clusterDir,
    bin,
    etcdPort: await freePort(),
    etcdPeerPort: await freePort(),
    apiPort: await freePort(),
    kwokPort: await freePort(),
    kubeconfig: path.join(clusterDir, 'kubeconfig'),
    egressConfig,
  };
  const server = `https://127.0.0.1:${layout.apiPort}`;
  fs.writeFileSync(layout.kubeconfig, adminKubeconfig(pki, server, clusterName), { mode: 0o600 });
  const creds = {
    ca: fs.readFileSync(pki.caCert),
    cert: fs.readFileSync(pki.adminCert),
    key: fs.readFileSync(pki.adminKey),
  };
  const state: ClusterState = {
    server,
    bin,
    helm,
    meshctl,
    egressSocket: egressSocketPath(),
    processes: [],
    startedAt: new Date().toISOString(),
  };
  const logs = path.join(clusterDir, 'logs');
  fs.mkdirSync(logs, { recursive: true, mode: 0o700 });
  // The registry starts and publishes while the control plane comes up (awaited at the end).
  const registryUp = registryTool
    ? ensureRegistry(state, clusterDir, pki, registryTool, helm.HELM3, writeState, say)
    : Promise.resolve();
  registryUp.catch(() => undefined); // its failure is reported where it is awaited
  // Its own discovery cache: one written while the manifests' CRDs were not yet served would mislead later clients.
  const kubectl = (args: string[], input?: string) =>
    execa(
      path.join(bin, 'kubectl'),
      ['--kubeconfig', layout.kubeconfig, '--cache-dir', path.join(clusterDir, 'kube-cache'), ...args],
      { input },
    );

  for (const spec of componentSpecs(layout, pki)) {
    const started = startDetached(spec.name, spec.bin, spec.args, path.join(logs, `${spec.name}.log`));
    state.processes.push(started);
    writeState(state); // record pids as we go, so cluster:down can stop a half-started cluster
    say(`started ${spec.name} (pid ${started.pid})`);
    if (spec.name === 'etcd') {
      await waitUntil('etcd health', async () => (await fetch(`http://127.0.0.1:${layout.etcdPort}/health`)).ok, {
        timeoutMs: 30_000,
        log: started.log,
        pid: started.pid,
      });
    }
    if (spec.name === 'kube-apiserver') {
      await waitUntil('kube-apiserver /readyz', async () => (await get(`${server}/readyz`, creds)).status === 200, {
        timeoutMs: 120_000,
        log: started.log,
        pid: started.pid,
      });
      say(`API server ready at ${server}`);
    }
  }
  writeEnvFile(state);
  await kubectl(['apply', '-f', path.join(import.meta.dirname, 'manifests')]);
  // Helm and nginx-meshctl map kinds through discovery: an OpenShift-flavoured deploy run the moment the cluster
  // was up found no SecurityContextConstraints kind ("no matches for kind") while the CRD was not served yet.
  await waitUntil(
    'the SecurityContextConstraints API in discovery',
    async () => {
      const gv = await get(`${server}/apis/security.openshift.io/v1`, creds);
      const groups = await get(`${server}/apis`, creds);
      return (
        gv.status === 200 &&
        gv.body.includes('"kind":"SecurityContextConstraints"') &&
        groups.body.includes('"security.openshift.io"')
      );
    },
    { timeoutMs: 60_000 },
  );
  forgetDiscovery(server);
  await waitUntil(
    'the default ServiceAccount',
    async () => (await kubectl(['get', 'serviceaccount', 'default', '-n', 'default'])).exitCode === 0,
    { timeoutMs: 60_000 },
  );
  await waitUntil(
    'two Ready KWOK nodes',
    async () => {
      const out = (
        await kubectl([
          'get',
          'nodes',
          '-o',
          'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        ])
      ).stdout;
      return out.split('\n').filter((s) => s === 'True').length >= 2;
    },
    { timeoutMs: 60_000 },
  );
  const emulator = await startEmulator(layout.kubeconfig, clusterDir, logs);
  if (emulator) {
    state.processes.push({ ...emulator, startedAt: new Date().toISOString() });
    writeState(state);
    say(`started mesh emulator (pid ${emulator.pid})`);
  }
  await registryUp;
  writeState(state);
  writeEnvFile(state);
  say(
    `up in ${((Date.now() - t0) / 1000).toFixed(1)}s. Use it with: source .cluster/env  (KUBECONFIG=${layout.kubeconfig})`,
  );
}

async function upAll(): Promise<void> {
  const { values } = parseArgs({ options: { clusters: { type: 'string' } } });
  const count = parseClusterCount(values.clusters);
  await main();
  if (count > 1) {
    const more = await upMoreClusters(clusterDir, count, say);
    const st = readState();
    if (st) writeEnvFile(st); // NSM_CONTEXTS and each cluster's own kubeconfig
    say(
      `${count} clusters up: contexts ${[clusterName, ...more.map((c) => c.name)].join(', ')} in ${path.join(clusterDir, 'kubeconfig')}`,
    );
  }
}

upAll().catch((err: unknown) => {
  say(`failed: ${(err as Error).message}`);
  say('logs are in .cluster/logs; `npm run cluster:down` stops whatever was started');
  process.exitCode = 1;
});
void repoRoot;
