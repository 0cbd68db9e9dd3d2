import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { TestProject } from 'vitest/node';

/**
 * Integration tests read only a kubeconfig, so they run on any cluster:
 * - TEST_KUBECONFIG=path: use that cluster as it is;
 * - TEST_CLUSTER=kind: create a kind cluster (needs Docker and the kind CLI), deleted afterwards;
 * - otherwise: the local cluster (`npm run cluster:up`), reused when already running, and
 *   stopped afterwards only if this run started it. NSM_TEST_CLUSTERS=2 starts a second cluster
 *   beside it (`cluster:up -- --clusters 2`) for the fleet tests, which skip without it.
 */
const root = path.resolve(import.meta.dirname, '../..');
const node = path.join(root, 'node_modules/node/bin/node');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The stand-ins and the tool run bundled: rebuilt here when older than their sources (test/cluster/fresh-bundles.ts).
  await execa(node, [path.join(root, 'test/cluster/fresh-bundles.ts')], { stdio: 'inherit', cwd: root });
  if (process.env.TEST_KUBECONFIG) {
    project.provide('kubeconfig', process.env.TEST_KUBECONFIG);
    return async () => {};
  }
  if (process.env.TEST_CLUSTER === 'kind') {
    const name = `nsm-upgrade-${process.pid}`;
    const kubeconfig = path.join(root, `.kind-${name}.kubeconfig`);
    await execa('kind', ['create', 'cluster', '--name', name, '--kubeconfig', kubeconfig, '--wait', '120s'], {
      stdio: 'inherit',
    });
    process.env.TEST_KUBECONFIG = kubeconfig;
    project.provide('kubeconfig', kubeconfig);
    return async () => {
      await execa('kind', ['delete', 'cluster', '--name', name], { stdio: 'inherit' });
      fs.rmSync(kubeconfig, { force: true });
    };
  }
  const wasUp = fs.existsSync(path.join(process.env.NSM_CLUSTER_DIR ?? path.join(root, '.cluster'), 'state.json'));
  const clusters = process.env.NSM_TEST_CLUSTERS ? ['--clusters', process.env.NSM_TEST_CLUSTERS] : [];
  await execa(node, [path.join(root, 'test/cluster/up.ts'), ...clusters], { stdio: 'inherit', cwd: root });
  const kubeconfig = path.join(process.env.NSM_CLUSTER_DIR ?? path.join(root, '.cluster'), 'kubeconfig');
  project.provide('kubeconfig', kubeconfig);
  // The demo leaves its mesh and injected apps running; NSM is one per cluster, and injected pods
  // keep CSI sentinels waiting, so the tests start from neither.
  const { testKube } = await import('../support/cluster.ts');
  const { demoNamespaces, removeAllMeshes } = await import('../support/mesh-scenario.ts');
  const kube = await testKube();
  const removed = await removeAllMeshes(kube);
  if (removed.length)
    process.stderr.write(`integration setup: removed the mesh left in ${removed.join(', ')} (one mesh per cluster)\n`);
  for (const ns of demoNamespaces) {
    await kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).then(
      () => process.stderr.write(`integration setup: removed the demo's namespace ${ns}\n`),
      () => undefined,
    );
  }
  return async () => {
    if (!wasUp && process.env.KEEP_CLUSTER !== '1') {
      await execa(node, [path.join(root, 'test/cluster/down.ts')], { stdio: 'inherit', cwd: root });
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}
