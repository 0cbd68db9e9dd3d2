// npm run demo — the README's first command: brings the embedded local cluster up, deploys NGINX
// Service Mesh 1.6.0 (OpenShift flavour) with the test bed's nginx-meshctl stand-in (1.6.0 has no
// source), adds injected workloads and SMI/NGINX resources, upgrades to 1.7.0 with the plugin (manual
// path: remove, wait for the CSI sentinel, redeploy with the vendor's real nginx-meshctl 1.7.0 where
// cluster:up built it, restore, restart) and ends with `status` on a converged mesh.
// Clean up with: npm run cluster:down
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './tools.ts';
import { clusterDir, readState } from './state.ts';

const say = (m: string) => process.stdout.write(`\n\x1b[1m==> ${m}\x1b[0m\n`);
const node = process.execPath;

say('Bringing up the local Kubernetes cluster (the first run builds it from Go modules; later runs reuse the cache)');
await execa(node, [path.join(repoRoot, 'test/cluster/up.ts')], { stdio: 'inherit' });
const state = readState();
if (!state) throw new Error('cluster:up did not record its state');
process.env.KUBECONFIG = path.join(clusterDir, 'kubeconfig');
// The real nginx-meshctl installs the vendor's chart embedded in it; the 1.6.0 stand-in then installs the
// vendor's 1.6.0 chart too (when the shared reference is there), so both sides of the upgrade have the real
// CRD schemas (the fixture charts' looser ones keep fields the real ones prune, e.g. TCPRoute spec.matches).
const realCharts = path.resolve(repoRoot, '../shared/nsm-reference/charts');
if (!process.env.NSM_CHARTS_DIR && fs.existsSync(path.join(realCharts, '1.6.0', 'Chart.yaml')))
  process.env.NSM_CHARTS_DIR = realCharts;

const { testKube, clusterEnv } = await import('../support/cluster.ts');
const { demoNamespaces, deployWithMeshctl, meshctlBin, populate, removeAllMeshes, waitRolledOut, snapshot } =
  await import('../support/mesh-scenario.ts');
const { meshctlFor } = await import('../support/real-meshctl.ts');
const target = meshctlFor('1.7.0');
const env = {
  ...process.env,
  ...clusterEnv(),
  PATH: `${path.join(repoRoot, 'bin')}:${state.bin}:${process.env.PATH ?? ''}`,
};
const kubectl = path.join(state.bin, 'kubectl');
const kube = await testKube();
const meshNs = 'nginx-mesh';
const apps = demoNamespaces;
const show = async (args: string[], opts: { reject?: boolean } = {}) => {
  process.stdout.write(`$ ${args.join(' ')}\n`);
  return execa(args[0]!, args.slice(1), { stdio: 'inherit', env, reject: opts.reject ?? true });
};

say('Removing what an earlier demo left (if anything)');
await removeAllMeshes(kube);
for (const ns of apps)
  await kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
for (let i = 0; i < 240; i++) {
  const left = await Promise.all(
    [meshNs, ...apps].map((ns) =>
      kube.request({ path: `/api/v1/namespaces/${ns}` }).then(
        () => 1,
        () => 0,
      ),
    ),
  );
  if (left.every((x) => x === 0)) break;
  await new Promise((r) => setTimeout(r, 500));
}

say('Deploying NGINX Service Mesh 1.6.0 on "OpenShift" with nginx-meshctl 1.6.0 (the test bed stand-in)');
await deployWithMeshctl('1.6.0', { namespace: meshNs, environment: 'openshift' });
say(
  `Creating ${apps.length} namespaces of injected workloads, each with a TrafficSplit, TrafficTarget, HTTPRouteGroup, TCPRoute, RateLimit and CircuitBreaker`,
);
await populate(kube, apps, { replicas: 2 });
await waitRolledOut(apps);
const before = await snapshot(kube, apps);
await show(['kubectl', 'nsm-upgrade', 'status']);

say(
  'Upgrading to 1.7.0 (on OpenShift this hop must be manual: remove, wait for csi-driver-sentinel, deploy, restore, restart)',
);
const backupDir = path.join(clusterDir, `demo-backup-${Date.now()}`);
process.stdout.write(
  `nginx-meshctl 1.7.0: ${target.kind === 'real' ? `the vendor's real binary, ${target.bin}` : 'the test bed stand-in (no real binary was built)'}\n`,
);
await show([
  'kubectl',
  'nsm-upgrade',
  '--to',
  '1.7.0',
  '--meshctl-current',
  meshctlBin('1.6.0'),
  '--meshctl',
  target.bin,
  '--backup-dir',
  backupDir,
  '--yes',
]);

say('The mesh after the upgrade');
await show(['kubectl', 'nsm-upgrade', 'status']);
const after = await snapshot(kube, apps);
const same = JSON.stringify(after) === JSON.stringify(before);
process.stdout.write(
  `\n${Object.keys(before).length} custom resources before, ${Object.keys(after).length} after, ${same ? 'all identical' : 'DIFFERENT'} (spec, labels, annotations).\n`,
);
process.stdout.write(`Backup, journal and restore report: ${backupDir}\n`);
say(`Done. Explore with: source .cluster/env; kubectl nsm-upgrade --help. Clean up with: npm run cluster:down`);
void kubectl;
if (!same) process.exitCode = 1;
