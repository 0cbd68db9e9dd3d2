// npm run demo — the README's first command: brings the embedded local cluster up and runs the
// plugin against it through kubectl's plugin mechanism (bin/ on PATH).
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './tools.ts';
import { clusterDir, readState } from './state.ts';

const say = (m: string) => process.stdout.write(`\n==> ${m}\n`);
const node = process.execPath;

say('Bringing up the local Kubernetes cluster (first run builds it from Go modules; later runs reuse the cache)');
await execa(node, [path.join(repoRoot, 'test/cluster/up.ts')], { stdio: 'inherit' });
const state = readState();
if (!state) throw new Error('cluster:up did not record its state');
const env = {
  ...process.env,
  KUBECONFIG: path.join(clusterDir, 'kubeconfig'),
  PATH: `${path.join(repoRoot, 'bin')}:${state.bin}:${process.env.PATH ?? ''}`,
};
const kubectl = path.join(state.bin, 'kubectl');

say('kubectl version');
await execa(kubectl, ['version'], { stdio: 'inherit', env });
say('kubectl get nodes (KWOK plays the nodes)');
await execa(kubectl, ['get', 'nodes'], { stdio: 'inherit', env });
say('kubectl nsm-upgrade --help (kubectl finds bin/kubectl-nsm_upgrade on PATH)');
await execa(kubectl, ['nsm-upgrade', '--help'], { stdio: 'inherit', env });
say(`Done. The cluster keeps running: source .cluster/env to use it; npm run cluster:down stops it.`);
