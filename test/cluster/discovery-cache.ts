/**
 * The discovery cache kubectl, Helm and nginx-meshctl keep per API server (client-go: <cache dir>/discovery/
 * <host_port>, the cache dir $KUBECACHEDIR or ~/.kube/cache). The test clusters listen on free ports, so a new
 * cluster can find an earlier one's entry under its address, and an entry written while `cluster:up` was still
 * creating CRDs lacks their kinds: an OpenShift deploy run first then failed with "no matches for kind
 * SecurityContextConstraints". cluster:up forgets its address's entry once every CRD is served (its own
 * kubectl keeps its cache in the cluster directory), and cluster:down forgets it again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** client-go's directory name for a server: the URL without its scheme, other characters than [(\w/.)] as _ (its regexp). */
export function discoveryCacheName(server: string): string {
  return server.replace(/^https?:\/\//, '').replace(/[^(\w/.)]/g, '_');
}

/** Removes the discovery cache entry of `server`, wherever client-go tools would look for it. */
export function forgetDiscovery(server: string): void {
  const root = process.env.KUBECACHEDIR ?? path.join(os.homedir(), '.kube', 'cache');
  fs.rmSync(path.join(root, 'discovery', discoveryCacheName(server)), { recursive: true, force: true });
}
