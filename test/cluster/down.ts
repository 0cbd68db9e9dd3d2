// npm run cluster:down — stops every process cluster:up started (by pid) and removes .cluster/.
import fs from 'node:fs';
import { stopAll } from './processes.ts';
import { clusterDir, readState } from './state.ts';

const state = readState();
if (state) {
  // Reverse start order: emulator and KWOK first, etcd last.
  const pids = state.processes.map((p) => p.pid).reverse();
  await stopAll(pids);
  process.stderr.write(`cluster: stopped ${pids.length} processes\n`);
} else {
  process.stderr.write('cluster: nothing recorded in .cluster/state.json\n');
}
fs.rmSync(clusterDir, { recursive: true, force: true });
process.stderr.write(`cluster: removed ${clusterDir}\n`);
