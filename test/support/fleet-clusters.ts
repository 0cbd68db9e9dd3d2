/**
 * The fleet tests' two clusters: the test cluster (context nsm-local) and the second, independent
 * one that `npm run cluster:up -- --clusters 2` starts beside it (context nsm-local-2, in
 * <cluster dir>/cluster-2; test/cluster/more-clusters.ts). Both contexts are in the test kubeconfig;
 * each cluster's own kubeconfig (one context) is for nginx-meshctl, which has no --context.
 */
import fs from 'node:fs';
import { createKube, type Kube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { clusterDir, kubeconfigPath, testKube } from './cluster.ts';
import { extraCluster } from '../cluster/more-clusters.ts';
import { missingRealMeshctl } from './real-meshctl.ts';

export interface TestCluster {
  context: string;
  /** A kubeconfig whose current context is this cluster. */
  kubeconfig: string;
  kube: Kube;
}

/**
 * Why the fleet tests cannot run here (no second cluster, or no real nginx-meshctl 1.7.0/2.0.0), or
 * undefined. NSM_REQUIRE_FLEET=1 (CI, with the second cluster up) makes a missing cluster an error.
 */
export function fleetTestsMissing(): string | undefined {
  const second = extraCluster(clusterDir, 2);
  let why: string | undefined;
  if (process.env.TEST_KUBECONFIG)
    why = "the fleet tests run on the local test bed's two clusters, not on TEST_KUBECONFIG";
  else if (!fs.existsSync(second.kubeconfig) || !fs.existsSync(`${second.dir}/state.json`))
    why = `no second cluster in ${second.dir}: start it with npm run cluster:up -- --clusters 2 (or NSM_TEST_CLUSTERS=2)`;
  if (why && process.env.NSM_REQUIRE_FLEET === '1') throw new Error(why);
  return why ?? missingRealMeshctl(['1.7.0', '2.0.0']);
}

let second: Kube | undefined;

/** [the test cluster, the second cluster]. */
export async function fleetClusters(): Promise<[TestCluster, TestCluster]> {
  const c2 = extraCluster(clusterDir, 2);
  second ??= await createKube(loadKubeConfig({ kubeconfig: c2.kubeconfig }));
  return [
    { context: 'nsm-local', kubeconfig: kubeconfigPath(), kube: await testKube() },
    { context: c2.name, kubeconfig: c2.kubeconfig, kube: second },
  ];
}
