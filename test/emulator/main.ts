import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { createEmulatorPki, startWebhookServer } from './server.ts';
import { startMeshState } from './mesh-state.ts';
import { startWebhookSync } from './webhook-sync.ts';
import { startHookPlayer } from './hook-player.ts';
import { leaseNameFor, startLeaderElection } from './leader.ts';

/**
 * The mesh emulator: plays NGINX Service Mesh's running containers on the local cluster (whose
 * pods are fake). Serves the charts' webhooks over TLS on loopback, keeps the mesh's webhook
 * configurations pointed at itself, and plays the OpenShift CSI hook Jobs.
 *
 *   node test/emulator/main.ts --kubeconfig .cluster/kubeconfig --state-dir .cluster [--scope k=v]
 *
 * --scope k=v (repeatable) makes a private instance for a test: it only manages webhook
 * configurations, control planes and hook-Job namespaces that carry those labels.
 */
const usage = 'usage: main.ts --kubeconfig FILE --state-dir DIR [--scope key=value ...] [--context NAME]';

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
      kubeconfig: { type: 'string' }, context: { type: 'string' }, 'state-dir': { type: 'string' },
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
  onStop.push(() => server.close(), async () => {
    if (fs.readFileSync(portFile, 'utf8').trim() === String(server.port)) fs.rmSync(portFile, { force: true });
  });
  const baseUrl = `https://127.0.0.1:${server.port}`;
  const identity = `${os.hostname()}-${process.pid}-${server.port}`;
  let onGain = () => {};
  const leadership = startLeaderElection({ kube, identity, lease: leaseNameFor(scope), signal: controller.signal, log, onGain: () => onGain() });
  onStop.push(() => leadership.release());
  const isLeader = () => leadership.isLeader();
  const sync = startWebhookSync({ ...common, isLeader, target: { baseUrl, caBundle: Buffer.from(pki.caPem).toString('base64') } });
  const hooks = startHookPlayer({ ...common, isLeader, inScope: (ns) => state.namespaceInScope(ns) });
  onGain = () => { sync.resync(); hooks.tick(); };

  await Promise.all([state.synced, sync.synced, hooks.synced]);
  fs.writeFileSync(`${portFile}.tmp`, `${server.port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  log(`mesh emulator serving ${baseUrl} (CA ${path.join(pki.dir, 'ca.crt')})${Object.keys(scope).length ? ` scoped to ${JSON.stringify(scope)}` : ''}`);
}

main().catch((err: Error) => {
  log(`error: ${err.message}`);
  process.exit(1);
});
