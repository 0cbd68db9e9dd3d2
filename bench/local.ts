/**
 * What every benchmark shares: the local cluster's kubeconfig (KUBECONFIG, else the one
 * `npm run cluster:up` wrote, under NSM_CLUSTER_DIR when set), its kubectl, and a wall-clock timer.
 */
import path from 'node:path';
import { clusterDir, clusterEnv } from '../test/support/cluster.ts';

export const kubeconfig = process.env.KUBECONFIG ?? path.join(clusterDir, 'kubeconfig');
export const kubectlBin = clusterEnv().KUBECTL!;

export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}
