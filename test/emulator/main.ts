import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { createEmulatorPki, startWebhookServer } from './server.ts';
import { startMeshState } from './mesh-state.ts';
import { startCaBundleSync } from './ca-bundle-sync.ts';
import { createMeshEndpoint } from './mesh-endpoint.ts';
import { startEgressProxy } from './egress-proxy.ts';
import { startHookPlayer } from './hook-player.ts';
import { leaseNameFor, startLeaderElection } from './leader.ts';

/**
 * The mesh emulator: plays NGINX Service Mesh's running containers on the local cluster (whose
 * pods are fake). Serves, behind the API server's egress proxy (--egress-socket, see
 * egress-proxy.ts), what the mesh's pods serve: the webhooks as the charts declare them (Service
 * references), the 1.x aggregated API and 2.0's /version; patches its CA into their caBundles as the
 * real control plane does; plays the OpenShift CSI hook Jobs. The same webhooks are also served on a
 * loopback port (/mesh/<namespace>/<path>) for tests that call them directly.
 *
 *   node test/emulator/main.ts --kubeconfig .cluster/kubeconfig --state-dir .cluster [--egress-socket .cluster/egress.sock] [--scope k=v]
 *
 * --scope k=v (repeatable) makes a private instance for a test: it only manages webhook
 * configurations, control planes and hook-Job namespaces that carry those labels.
 */
const usage =
  'usage: main.ts --kubeconfig FILE --state-dir DIR [--egress-socket FILE] [--scope key=value ...] [--context NAME]';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

export function parseScope(values: string[]): Record<string, string> {
  const scope: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new Error(`--scope ${v}: expected key=value`);
    scope[v.slice(0, i)] = v.slice(i + 1);
  }
  return scope;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'state-dir': { type: 'string' },
      'egress-socket': { type: 'string' },
      scope: { type: 'string', multiple: true, default: [] },
    },
  });
  const stateDir = values['state-dir'];
  if (!stateDir) throw new Error(`--state-dir is required\n${usage}`);
  const scope = parseScope(values.scope ?? []);
  fs.mkdirSync(stateDir, { recursive: true });
  const portFile = path.join(stateDir, 'emulator.port');

  // Signal handlers first: a SIGTERM during start-up (certificates, first lists) also exits 0.
  const controller = new AbortController();
  const onStop: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    controller.abort();
    void Promise.allSettled(onStop.map((f) => f())).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => log(`error: uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log(`error: unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));

  const kube = await createKube(loadKubeConfig({ kubeconfig: values.kubeconfig, context: values.context }), { log });
  const pki = await createEmulatorPki(stateDir);
  const common = { kube, signal: controller.signal, log, scope };
  const state = startMeshState(common);
  const server = await startWebhookServer(pki, state, log);
  onStop.push(
    () => server.close(),
    async () => {
      if (fs.readFileSync(portFile, 'utf8').trim() === String(server.port)) fs.rmSync(portFile, { force: true });
    },
  );
  const baseUrl = `https://127.0.0.1:${server.port}`;
  const identity = `${os.hostname()}-${process.pid}-${server.port}`;
  let onGain = () => {};
  const leadership = startLeaderElection({
    kube,
    identity,
    lease: leaseNameFor(scope),
    signal: controller.signal,
    log,
    onGain: () => onGain(),
  });
  onStop.push(() => leadership.release());
  const isLeader = () => leadership.isLeader();
  const sync = startCaBundleSync({ ...common, isLeader, caBundle: Buffer.from(pki.caPem).toString('base64') });
  const endpoint = createMeshEndpoint({ pki, view: state, kube, log });
  const egressSocket = values['egress-socket'];
  if (egressSocket) {
    const plays = (ns: string, labels: Record<string, string>) =>
      labels['app.kubernetes.io/part-of'] === 'nginx-service-mesh' || state.controlPlane(ns) !== undefined;
    const egress = await startEgressProxy({ socket: egressSocket, kube, endpoint, log, plays });
    onStop.push(() => egress.close());
  }
  onStop.push(async () => endpoint.close());
  const hooks = startHookPlayer({ ...common, isLeader, inScope: (ns) => state.namespaceInScope(ns) });
  onGain = () => {
    sync.resync();
    hooks.tick();
  };

  await Promise.all([state.synced, sync.synced, hooks.synced]);
  fs.writeFileSync(`${portFile}.tmp`, `${server.port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  log(
    `mesh emulator serving ${baseUrl} (CA ${path.join(pki.dir, 'ca.crt')})${Object.keys(scope).length ? ` scoped to ${JSON.stringify(scope)}` : ''}`,
  );
}

main().catch((err: Error) => {
  log(`error: ${err.message}`);
  process.exit(1);
});
