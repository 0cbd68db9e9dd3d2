/**
 * Issue 23, on the real API server: what a run checks before it changes the cluster, and reads it
 * does not take on trust.
 * - Before each command that changes the cluster, the cluster the command's OWN kubeconfig reaches is
 *   asked who it is (server URL and kube-system uid) against the identity the run journaled; a command
 *   that would reach another cluster (or a rebuilt one at the same URL) is not run.
 * - A resume against a cluster whose kube-system uid differs is refused (exit 3), URL equal or not.
 * - A Helm release list that cannot be read fails the step (it was read as "no release busy").
 * - The rollback's wait for a busy Helm release ends when the run is interrupted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { assertSameCluster, clusterIdentity, commandReaches } from '../../src/engine/cluster-identity.ts';
import { runStepCommands } from '../../src/engine/step-commands.ts';
import { waitForHelmIdle } from '../../src/mesh/live-state.ts';
import { controlPlaneExecutors } from '../../src/engine/phases/control-plane.ts';
import { createKube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { PreflightError, StepError } from '../../src/errors.ts';
import type { StepContext } from '../../src/engine/step-context.ts';
import type { Command } from '../../src/exec/runner.ts';
import { clusterDir, testDeps, uniqueName } from '../support/cluster.ts';
import { extraCluster } from '../cluster/more-clusters.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { dropNamespace, plantMesh } from './detect-plant.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-guards-'));
const planted: string[] = [];
afterAll(async () => {
  for (const ns of planted) await dropNamespace(ns);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The private kubeconfig a run writes for its children (the test cluster's context, as loaded). */
async function privateKubeconfig(name: string, server?: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromString((await testDeps()).kube.pinnedKubeconfig());
  if (server)
    kc.loadFromOptions({
      clusters: kc.getClusters().map((c) => ({ ...c, server })),
      users: kc.getUsers(),
      contexts: kc.getContexts(),
      currentContext: kc.getCurrentContext(),
    });
  const file = path.join(tmp, name);
  fs.writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

/** A command that changes the cluster (as the plan marks nginx-meshctl remove), pointed at `kubeconfig`, that leaves a marker when it runs. */
function marking(kubeconfig: string | undefined, marker: string): Command {
  return {
    bin: 'sh',
    args: ['-c', `touch '${marker}'`, ...(kubeconfig ? ['-k', kubeconfig] : []), '-n', 'nginx-mesh', 'remove', '--yes'],
    writes: true,
  };
}

async function stepContext(over: Partial<StepContext> = {}): Promise<StepContext> {
  const deps = await testDeps();
  const step = {
    id: 'hop1.remove',
    kind: 'remove',
    title: 'remove',
    destructive: true,
    writes: true,
    commands: [],
    params: { version: '1.6.0', release: 'nginx-service-mesh' },
  } as never;
  return {
    deps,
    plan: { namespace: 'nginx-mesh', release: 'nginx-service-mesh' } as never,
    hop: { method: 'meshctl', steps: [step] } as never,
    step,
    journalData: new Map(),
    timeoutMs: 60_000,
    concurrency: 1,
    restart: 'behind',
    deleteBarePods: false,
    progress: () => undefined,
    signal: new AbortController().signal,
    guard: { cluster: await clusterIdentity(deps), leaseHeld: async () => undefined },
    ...over,
  };
}

describe('the cluster a command reaches, asked before the command runs', () => {
  it("a command whose own kubeconfig reaches the run's cluster runs", async () => {
    const marker = path.join(tmp, 'ran-ok');
    await runStepCommands(await stepContext(), [marking(await privateKubeconfig('ok.kubeconfig'), marker)]);
    expect(fs.existsSync(marker)).toBe(true);
  });

  it('a rebuilt cluster at the same URL (another kube-system uid) is refused; the command never runs', async () => {
    const ctx = await stepContext();
    const marker = path.join(tmp, 'ran-rebuilt');
    const err = await runStepCommands(
      {
        ...ctx,
        guard: { ...ctx.guard, cluster: { ...ctx.guard.cluster, uid: 'uid-of-the-cluster-the-run-started-on' } },
      },
      [marking(await privateKubeconfig('rebuilt.kubeconfig'), marker)],
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as Error).message).toMatch(
      /was not run: .* kube-system namespace has uid .*, the run's had uid-of-the-cluster-the-run-started-on/,
    );
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("a kubeconfig that reaches no cluster, or none at all (the user's, whatever it names now), is refused", async () => {
    const ctx = await stepContext();
    const marker = path.join(tmp, 'ran-nowhere');
    await expect(
      runStepCommands(ctx, [marking(await privateKubeconfig('nowhere.kubeconfig', 'https://127.0.0.1:1'), marker)]),
    ).rejects.toThrow(/does not reach a cluster that says who it is/);
    await expect(runStepCommands(ctx, [marking(undefined, marker)])).rejects.toThrow(/has no kubeconfig of its own/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('another cluster (the second local one) is refused by its URL', async (t) => {
    const second = extraCluster(clusterDir, 2);
    t.skip(
      !fs.existsSync(path.join(second.dir, 'state.json')) || Boolean(process.env.TEST_KUBECONFIG),
      `no second cluster in ${second.dir} (npm run cluster:up -- --clusters 2)`,
    );
    const ctx = await stepContext();
    const why = await commandReaches(marking(second.kubeconfig, path.join(tmp, 'never')), 'meshctl', ctx.guard.cluster);
    expect(why).toMatch(
      new RegExp(
        `reaches ${(await createKube(loadKubeConfig({ kubeconfig: second.kubeconfig }))).server}, the run's cluster is ${ctx.deps.kube.server}`,
      ),
    );
  });

  it('the lease is checked first (fencing): a lost lease runs no command', async () => {
    const marker = path.join(tmp, 'ran-unleased');
    const ctx = await stepContext({
      guard: {
        cluster: (await stepContext()).guard.cluster,
        leaseHeld: async () => {
          throw new Error('lease lost');
        },
      },
    });
    await expect(runStepCommands(ctx, [marking(await privateKubeconfig('leased.kubeconfig'), marker)])).rejects.toThrow(
      'lease lost',
    );
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a resume on a cluster whose kube-system uid differs is refused (exit 3), even at the same URL', async () => {
    const deps = await testDeps();
    const err = await assertSameCluster(deps, { server: deps.kube.server, uid: 'a-cluster-since-rebuilt' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PreflightError);
    expect((err as PreflightError).exitCode).toBe(3);
    expect((err as PreflightError).failures[0]?.message).toMatch(
      /namespace kube-system has uid .*, the run's cluster had a-cluster-since-rebuilt/,
    );
    await expect(assertSameCluster(deps, await clusterIdentity(deps))).resolves.toBeUndefined();
  });
});

describe('reads that fail are failures', () => {
  it('a Helm release list that cannot be read fails the wait, not reads as "nothing busy"', async () => {
    const ns = uniqueName('guard-rel');
    planted.push(ns);
    await plantMesh(ns, { version: '1.6.0', releases: [{ revision: 1 }] });
    const proxy = await startFaultProxy({
      rate: 1,
      seed: 5,
      kinds: ['unavailable'],
      maxSeconds: 120,
      match: (method, url) => method === 'GET' && url.includes(`/namespaces/${ns}/secrets`),
    });
    try {
      const deps = {
        ...(await testDeps()),
        kube: await createKube(loadKubeConfig({ kubeconfig: proxy.kubeconfigPath }), {
          retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 },
        }),
      };
      const err = await waitForHelmIdle(deps, ns, 'nginx-service-mesh', 10_000, () => undefined).then(
        () => 'returned',
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StepError);
      expect((err as Error).message).toMatch(new RegExp(`cannot read the Helm releases in namespace ${ns}: 503`));
    } finally {
      await proxy.close();
    }
  });

  it("the rollback's wait for a busy Helm release ends when the run is interrupted", async () => {
    const ns = uniqueName('guard-busy');
    planted.push(ns);
    await plantMesh(ns, {
      version: '1.6.0',
      releases: [
        { revision: 1, status: 'superseded' },
        { revision: 2, status: 'pending-upgrade' },
      ],
    });
    const abort = new AbortController();
    const ctx = await stepContext({
      plan: { namespace: ns, release: 'nginx-service-mesh' } as never,
      signal: abort.signal,
      timeoutMs: 60_000,
    });
    const started = Date.now();
    setTimeout(() => abort.abort(new Error('interrupted')), 1_000);
    const err = await controlPlaneExecutors['helm-rollback']({
      ...ctx,
      step: { ...ctx.step, kind: 'helm-rollback', commands: [] },
    } as never).then(
      () => 'returned',
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe('interrupted');
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s timeout
  });
});
