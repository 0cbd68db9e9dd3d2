/**
 * Issue 23, measured on two local clusters (`npm run cluster:up -- --clusters 2`, or NSM_TEST_CLUSTERS=2):
 * a manual nginx-meshctl upgrade started WITHOUT --context on cluster one; after its backup step the
 * kubeconfig's current context is switched to cluster two, as `kubectl config use-context` in another
 * shell does. Before the fix nginx-meshctl's `remove` re-read the kubeconfig and removed cluster TWO's
 * mesh and custom resources (no backup holds them), and the run waited on cluster one. Now every child
 * gets a private kubeconfig of the context read at start: cluster two is untouched, the run converges
 * on cluster one, and the private kubeconfig is gone afterwards.
 * Without the second cluster the test skips, saying why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectInstall } from '../../src/mesh/detect.ts';
import { listAll } from '../../src/kube/list.ts';
import { collectionPath, core } from '../../src/kube/paths.ts';
import { childKubeconfigPath } from '../../src/engine/child-kubeconfig.ts';
import { clusterDir, clusterEnv, kubeconfigPath, repoRoot, uniqueName } from '../support/cluster.ts';
import { fleetClusters, type TestCluster } from '../support/fleet-clusters.ts';
import { extraCluster } from '../cluster/more-clusters.ts';
import { chartsDir, snapshot } from '../support/mesh-scenario.ts';
import { meshctlWrapper } from '../support/failing-deploy.ts';
import { stepsDone } from '../support/kill-at.ts';
import {
  expectConverged,
  scenarioMeshctl,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';

const second = extraCluster(clusterDir, 2);
const missing = process.env.TEST_KUBECONFIG
  ? "runs on the local test bed's two clusters, not on TEST_KUBECONFIG"
  : !fs.existsSync(path.join(second.dir, 'state.json'))
    ? `no second cluster in ${second.dir}: start it with npm run cluster:up -- --clusters 2 (or NSM_TEST_CLUSTERS=2)`
    : undefined;

const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0', namespaces: 1 };
const ns = uniqueName('mesh');
let clusters: [TestCluster, TestCluster];
let one: Scenario | undefined;
let two: Scenario | undefined;

beforeAll(async () => {
  if (missing) return;
  clusters = await fleetClusters();
  // The same mesh namespace on both, as `nginx-mesh` is on most clusters.
  one = await setUpMesh({ ...o, meshNamespace: ns });
  two = await setUpMesh({ ...o, meshNamespace: ns, cluster: clusters[1] });
}, 900_000);

afterAll(async () => {
  await one?.cleanup();
  await two?.cleanup();
});

const crdNames = async (t: TestCluster) =>
  (await listAll(t.kube, collectionPath(core.crds), { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' }))
    .map((c) => c.metadata?.name)
    .sort();

describe("the kubeconfig's current context switched in another shell mid-run", () => {
  it('does not move a manual upgrade started without --context: cluster two is untouched, the run converges on cluster one', async (ctx) => {
    ctx.skip(missing !== undefined, missing);
    const s1 = one!;
    const s2 = two!;
    const crdsTwo = await crdNames(clusters[1]);
    expect(crdsTwo.length).toBeGreaterThan(0);
    // The user's kubeconfig: both contexts, cluster one current. No --context, no --kubeconfig: KUBECONFIG.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-switch-'));
    const kubeconfig = path.join(work, 'config');
    fs.copyFileSync(kubeconfigPath(), kubeconfig);
    const kubectl = (args: string[]) => execa(clusterEnv().KUBECTL!, ['--kubeconfig', kubeconfig, ...args]);
    await kubectl(['config', 'use-context', clusters[0].context]);
    // nginx-meshctl 1.6.0 (the remove) starts only once the switch is made, so the test does not
    // depend on how fast the tool reaches its next step: the switch comes right after the backup.
    const remove = meshctlWrapper(path.join(work, 'nginx-meshctl-1.6.0'), scenarioMeshctl('1.6.0'), {
      passThrough: '*" --help "*|*" --dry-run "*|*" version "*',
      on: 'remove',
      body: [
        `  i=0; until grep -q '^current-context: ${clusters[1].context}$' '${kubeconfig}' || [ $i -ge 600 ]; do sleep 0.05; i=$((i+1)); done;;`,
      ],
    });
    const args = toolArgs(s1, o, ['--strategy', 'manual']).map((a, i, all) =>
      all[i - 1] === '--meshctl-current' ? remove : a,
    );
    const child = execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), args, {
      reject: false,
      all: true,
      env: { ...clusterEnv(), KUBECONFIG: kubeconfig, NSM_CHARTS_DIR: chartsDir },
    });
    let exited = false;
    void child.finally(() => {
      exited = true;
    });
    let switched = false;
    for (let t = 0; t < 6000 && !exited && !switched; t++) {
      if (stepsDone(s1.backupDir).includes('hop1.backup')) {
        await kubectl(['config', 'use-context', clusters[1].context]);
        switched = true;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await child;
    expect(switched, `the run never finished its backup step:\n${String(res.all).slice(-3000)}`).toBe(true);
    // Cluster two: its mesh, CRDs and custom resources as they were.
    expect((await detectInstall({ kube: s2.kube } as never, { meshNamespace: ns })).version).toBe('1.6.0');
    expect(await crdNames(clusters[1])).toEqual(crdsTwo);
    expect(await snapshot(s2.kube, s2.appNamespaces)).toEqual(s2.before);
    // Cluster one: the whole run, done.
    expect(res.exitCode, String(res.all).slice(-3000)).toBe(0);
    await expectConverged(s1, o.to);
    expect(fs.existsSync(childKubeconfigPath(s1.backupDir))).toBe(false);
    const journal = fs.readFileSync(path.join(s1.backupDir, 'journal.ndjson'), 'utf8');
    expect(journal).toContain(`"context":"${clusters[0].context}"`);
    expect(journal).toContain(`"-k","${childKubeconfigPath(s1.backupDir)}"`);
  }, 900_000);
});
