/**
 * `npm run cluster:up -- --clusters N`: N independent local clusters (N <= 3). The first is the usual
 * one in the cluster directory; cluster k (2..N) is a whole second cluster in <cluster dir>/cluster-k
 * (its own etcd, API server, controllers, KWOK, mesh emulator, PKI and ports), started by up.ts itself
 * with NSM_CLUSTER_DIR pointing there and NSM_CLUSTER_NAME=nsm-local-k. The first cluster's kubeconfig
 * then holds every context (its current context stays nsm-local, so what uses only the first cluster
 * is unchanged); each cluster-k/kubeconfig holds its own context only (for nginx-meshctl, which has no
 * --context). `cluster:down` stops them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { dump, load } from 'js-yaml';

export const maxClusters = 3;

export interface ExtraCluster {
  index: number;
  dir: string;
  name: string;
  kubeconfig: string;
}

/** Cluster k (2..N) of the cluster directory `root`. */
export function extraCluster(root: string, index: number): ExtraCluster {
  const dir = path.join(root, `cluster-${index}`);
  return { index, dir, name: `nsm-local-${index}`, kubeconfig: path.join(dir, 'kubeconfig') };
}

/** The extra clusters started in `root` (those with a state file), in order. */
export function extraClusters(root: string): ExtraCluster[] {
  const out: ExtraCluster[] = [];
  for (let k = 2; k <= maxClusters; k++) {
    const c = extraCluster(root, k);
    if (fs.existsSync(path.join(c.dir, 'state.json'))) out.push(c);
  }
  return out;
}

/** Parses --clusters: a whole number from 1 to maxClusters. */
export function parseClusterCount(text: string | undefined): number {
  const n = Number(text ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > maxClusters)
    throw new Error(
      `--clusters ${text}: expected a whole number from 1 to ${maxClusters} (each cluster takes about 1 GB of memory and a share of the cores)`,
    );
  return n;
}

interface Named {
  name: string;
}
interface KubeconfigFile {
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  [k: string]: unknown;
}

/** Pure: `base` with the clusters, users and contexts of `others` added (entries of the same name replaced). */
export function mergeKubeconfigs(base: KubeconfigFile, others: readonly KubeconfigFile[]): KubeconfigFile {
  const merged: KubeconfigFile = { ...base };
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const added = others.flatMap((o) => o[key] ?? []);
    const names = new Set(added.map((e) => e.name));
    merged[key] = [...(base[key] ?? []).filter((e) => !names.has(e.name)), ...added];
  }
  return merged;
}

/**
 * Starts (or reuses) clusters 2..count beside the first, one after the other (each start is up.ts
 * again in its own directory), then writes every context into the first cluster's kubeconfig.
 */
export async function upMoreClusters(root: string, count: number, say: (m: string) => void): Promise<ExtraCluster[]> {
  const started: ExtraCluster[] = [];
  for (let k = 2; k <= count; k++) {
    const c = extraCluster(root, k);
    say(`cluster ${k} of ${count}: ${c.name} in ${c.dir}`);
    await execa(process.execPath, [path.join(import.meta.dirname, 'up.ts')], {
      stdio: 'inherit',
      env: { ...process.env, NSM_CLUSTER_DIR: c.dir, NSM_CLUSTER_NAME: c.name, NSM_NO_REGISTRY: '1' },
    });
    started.push(c);
  }
  const main = path.join(root, 'kubeconfig');
  const merged = mergeKubeconfigs(
    load(fs.readFileSync(main, 'utf8')) as KubeconfigFile,
    extraClusters(root).map((c) => load(fs.readFileSync(c.kubeconfig, 'utf8')) as KubeconfigFile),
  );
  const tmp = `${main}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, dump(merged, { lineWidth: -1 }), { mode: 0o600 });
  fs.renameSync(tmp, main);
  return started;
}
