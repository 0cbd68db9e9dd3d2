// npm run cluster:down — stops every process cluster:up started (by pid), the extra clusters of
// `--clusters N` first, and removes .cluster/.
import fs from 'node:fs';
import path from 'node:path';
import { stopAll } from './processes.ts';
import { clusterDir, readState, type ClusterState } from './state.ts';
import { extraClusters } from './more-clusters.ts';
import { forgetDiscovery } from './discovery-cache.ts';

for (const extra of extraClusters(clusterDir)) {
  const st = JSON.parse(fs.readFileSync(path.join(extra.dir, 'state.json'), 'utf8')) as ClusterState;
  const pids = st.processes.map((p) => p.pid).reverse();
  await stopAll(pids);
  forgetDiscovery(st.server);
  process.stderr.write(`cluster: stopped ${pids.length} processes of ${extra.name}\n`);
}
const state = readState();
if (state) {
  // Reverse start order: emulator and KWOK first, etcd last.
  const pids = state.processes.map((p) => p.pid).reverse();
  await stopAll(pids);
  forgetDiscovery(state.server);
  process.stderr.write(`cluster: stopped ${pids.length} processes\n`);
} else {
  process.stderr.write('cluster: nothing recorded in .cluster/state.json\n');
}
fs.rmSync(clusterDir, { recursive: true, force: true });
process.stderr.write(`cluster: removed ${clusterDir}\n`);
