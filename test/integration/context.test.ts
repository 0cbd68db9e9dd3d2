/**
 * Every external command acts on the cluster the tool reads: with --context naming the test cluster
 * and a kubeconfig whose current context points at an address where nothing listens, a whole
 * nginx-meshctl upgrade (the vendor CLI has no --context flag) reaches the test cluster, and the
 * private kubeconfig it was given is gone afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childKubeconfigPath } from '../../src/engine/child-kubeconfig.ts';
import { kubeconfigPath } from '../support/cluster.ts';
import { expectConverged, runUpgrade, setUpMesh, type Scenario } from '../support/upgrade-scenario.ts';

interface Kc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

let s: Scenario;
let twoContexts: string;
const o = { method: 'meshctl' as const, from: '1.6.0', to: '1.7.0' };

beforeAll(async () => {
  s = await setUpMesh(o);
  const kc = load(fs.readFileSync(kubeconfigPath(), 'utf8')) as Kc;
  const real = kc.contexts.find((c) => c.name === kc['current-context'])!;
  const cluster = kc.clusters.find((c) => c.name === real.context.cluster)!;
  const dead = { name: 'nowhere', cluster: { ...cluster.cluster, server: 'https://127.0.0.1:9' } };
  const out: Kc = {
    ...kc,
    clusters: [...kc.clusters, dead],
    contexts: [
      { name: 'real', context: real.context },
      { name: 'nowhere', context: { cluster: 'nowhere', user: real.context.user } },
    ],
    'current-context': 'nowhere',
  };
  twoContexts = path.join(path.dirname(s.backupDir), 'two-contexts.kubeconfig');
  fs.writeFileSync(twoContexts, dump(out), { mode: 0o600 });
});

afterAll(async () => {
  await s?.cleanup();
});

describe('--context reaches nginx-meshctl', () => {
  it('upgrades the cluster --context names although the current context points where nothing listens', async () => {
    const r = await runUpgrade(s, o, ['--kubeconfig', twoContexts, '--context', 'real', '--strategy', 'in-place']);
    expect(r.exitCode, r.stderr).toBe(0);
    await expectConverged(s, o.to);
    expect(fs.existsSync(childKubeconfigPath(s.backupDir))).toBe(false);
    const journal = fs.readFileSync(path.join(s.backupDir, 'journal.ndjson'), 'utf8');
    expect(journal).toContain(`"-k","${childKubeconfigPath(s.backupDir)}"`);
  }, 600_000);
});
