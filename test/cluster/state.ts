import fs from 'node:fs';
import path from 'node:path';
import { realMeshctlVar, repoRoot } from './tools.ts';
import { extraClusters } from './more-clusters.ts';
import { registryEnv } from './registry.ts';

/** What `cluster:up` leaves in .cluster/ for `cluster:down` and the tests. */
export interface ClusterState {
  server: string;
  bin: string;
  helm: Record<string, string>;
  /** The vendor's real nginx-meshctl by version (absolute paths); absent or empty: stand-ins only. */
  meshctl?: Record<string, string>;
  /** The API server's egress proxy socket (served by the mesh emulator); absent on clusters started before it existed. */
  egressSocket?: string;
  /** The test bed's OCI registry (registry.ts); absent on extra clusters and on clusters started before it. */
  registry?: RegistryState;
  processes: { name: string; pid: number; log: string; startedAt?: string }[];
  startedAt: string;
}

/** Where the registry listens and how to reach it (the password is in its 0600 file, not here). */
export interface RegistryState {
  /** 127.0.0.1:PORT */
  address: string;
  port: number;
  username: string;
  passwordFile: string;
  /** The CA that signed its serving certificate (the cluster CA). */
  ca: string;
  /** The nsm-test-registry binary: serve, publish, push, delete, tags, inspect. */
  tool: string;
  /** images.json: the images of every reference chart version under the mirror path. */
  images: string;
}

export const clusterDir = process.env.NSM_CLUSTER_DIR ?? path.join(repoRoot, '.cluster');
export const statePath = path.join(clusterDir, 'state.json');
/** The kubeconfig context (and cluster and user) name of this cluster; the extra clusters of `--clusters N` set it. */
export const clusterName = process.env.NSM_CLUSTER_NAME ?? 'nsm-local';

export function readState(): ClusterState | undefined {
  if (!fs.existsSync(statePath)) return undefined;
  return JSON.parse(fs.readFileSync(statePath, 'utf8')) as ClusterState;
}

export function writeState(state: ClusterState): void {
  fs.writeFileSync(statePath, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
}

/**
 * The Unix socket the API server's egress selector dials for cluster traffic (aggregated APIs,
 * service proxy, Service webhooks): the mesh emulator serves an HTTP CONNECT proxy on it.
 */
export function egressSocketPath(): string {
  return path.join(clusterDir, 'egress.sock');
}

/**
 * .cluster/env: a shell file exporting KUBECONFIG and the tools' paths; with the extra clusters of
 * `cluster:up --clusters N` (more-clusters.ts) also NSM_CONTEXTS (every context of KUBECONFIG) and
 * KUBECONFIG_<k> (cluster k's own kubeconfig); with the registry, NSM_REGISTRY (host:port/path),
 * NSM_REGISTRY_USERNAME, NSM_REGISTRY_PASSWORD, NSM_REGISTRY_CA, NSM_REGISTRY_TOOL and NSM_REGISTRY_IMAGES.
 */
export function writeEnvFile(state: ClusterState): void {
  const extra = extraClusters(clusterDir);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    '# Written by npm run cluster:up. Use: source .cluster/env',
    `export KUBECONFIG=${q(path.join(clusterDir, 'kubeconfig'))}`,
    `export KUBECTL=${q(path.join(state.bin, 'kubectl'))}`,
    `export KWOK=${q(path.join(state.bin, 'kwok'))}`,
    `export ETCD=${q(path.join(state.bin, 'etcd'))}`,
    `export KUBE_APISERVER=${q(path.join(state.bin, 'kube-apiserver'))}`,
    ...Object.entries(state.helm).map(([k, v]) => `export ${k}=${q(v)}`),
    ...Object.entries(state.meshctl ?? {}).map(([version, bin]) => `export ${realMeshctlVar(version)}=${q(bin)}`),
    `export NSM_EGRESS_SOCKET=${q(egressSocketPath())}`,
    `export NSM_CLUSTER_BIN=${q(state.bin)}`,
    `export PATH=${q(path.join(repoRoot, 'bin'))}:${q(state.bin)}:"$PATH"`,
    ...(extra.length ? [`export NSM_CONTEXTS=${q([clusterName, ...extra.map((c) => c.name)].join(','))}`] : []),
    ...extra.map((c) => `export KUBECONFIG_${c.index}=${q(c.kubeconfig)}`),
    ...Object.entries(state.registry ? registryEnv(state.registry) : {}).map(([k, v]) => `export ${k}=${q(v)}`),
    '',
  ];
  fs.writeFileSync(path.join(clusterDir, 'env'), lines.join('\n'), { mode: 0o600 });
}
