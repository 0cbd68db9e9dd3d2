/**
 * Restore through injected API faults (test/support/fault-proxy.ts): 280 objects re-created through
 * 30% faults, including lost responses (the create happened but the client only saw a reset, so
 * its retry meets AlreadyExists). With --on-conflict fail, the strictest policy, the restore must
 * still finish with exit 0, every object back with equal spec, labels and annotations, and no
 * false conflict; retries are bounded by the faults met.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kube/client.ts';
import {
  createNamespace,
  deleteAllCatalogObjects,
  deleteNamespace,
  liveObjects,
  seed,
} from '../fixtures/backups/cluster.ts';
import { catalogCrdsReady } from '../support/crd-guard.ts';
import { failedByFault, type FaultKind } from '../support/fault-decide.ts';
import { expectRealTransport, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runTool, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('faults-rs');
const meshNs = uniqueName('faults-rs-nomesh');
const perKind = 40;
let tmp: string;
let seeded: KubeObject[] = [];
const proxies: FaultProxy[] = [];

const key = (o: KubeObject) => `${o.kind}/${o.metadata!.name}`;
/** JSON with sorted keys: the backup writes keys sorted, so compare content, not key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
const essence = (o: KubeObject) => ({
  spec: o.spec,
  labels: o.metadata?.labels ?? {},
  annotations: o.metadata?.annotations ?? {},
});

async function waitEmpty(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await liveObjects(await testKube(), ns)).size === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`objects in ${ns} were not deleted within 20 s`);
}

beforeAll(async () => {
  const kube = await testKube();
  await catalogCrdsReady(kube);
  await createNamespace(kube, ns);
  seeded = await seed(kube, ns, perKind);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-faults-restore-'));
  const res = await runTool(['backup', '--dir', path.join(tmp, 'backup'), '-n', ns, '--mesh-namespace', meshNs]);
  if (res.exitCode !== 0) throw new Error(`backup failed: ${res.stderr}`);
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await deleteNamespace(await testKube(), ns);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('restore through injected API faults', () => {
  const kinds: FaultKind[] = ['throttle', 'error500', 'unavailable', 'reset', 'delay', 'lostResponse'];
  it(`30% faults incl. lost responses (seed 5), --on-conflict fail: all ${perKind}x7 objects back, equal, no false conflict`, async () => {
    expect(seeded).toHaveLength(perKind * 7);
    await deleteAllCatalogObjects(await testKube(), ns);
    await waitEmpty();

    const proxy = await startFaultProxy({ rate: 0.3, seed: 5, kinds, maxSeconds: 400 });
    proxies.push(proxy);
    const started = Date.now();
    const res = await runTool(
      [
        'restore',
        '--from',
        path.join(tmp, 'backup'),
        '--on-conflict',
        'fail',
        '--kubeconfig',
        proxy.kubeconfigPath,
        '-v',
      ],
      { timeoutMs: 400_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    const retries = res.stderr.split('\n').filter((l) => /retrying (GET|POST|PUT|PATCH|DELETE) /.test(l)).length;
    expect(
      res.exitCode,
      res.stderr
        .split('\n')
        .filter((l) => !l.startsWith('debug:'))
        .join('\n'),
    ).toBe(0);
    // Creates are retried by the restore itself (per object, until --timeout): their attempts are in the report.
    const report = JSON.parse(await fs.readFile(path.join(tmp, 'backup', 'restore-report.json'), 'utf8')) as {
      counts: Record<string, number>;
      unresolved: number;
      items: { attempts: number }[];
    };
    const createRetries = report.items.reduce((n, i) => n + i.attempts - 1, 0);
    const maxAttempts = Math.max(...report.items.map((i) => i.attempts));
    console.log(
      `[faults] restore 30% seed 5: ${proxy.stats.requests} requests, injected ${JSON.stringify(proxy.stats.injected)}, client retries ${retries}, create retries ${createRetries} (max ${maxAttempts} attempts for one object), outcomes ${JSON.stringify(report.counts)}, ${seconds.toFixed(1)}s, exit ${res.exitCode}`,
    );
    expect(report.unresolved).toBe(0);
    await expectRealTransport(proxy);
    expect(report.counts.conflict ?? 0).toBe(0);
    // A create whose response was lost is found on retry, equal to the backup: "unchanged", not a conflict.
    expect(report.counts.unchanged ?? 0).toBeGreaterThan(0);

    const live = await liveObjects(await testKube(), ns);
    expect(live.size).toBe(seeded.length);
    const lost = seeded.filter((o) => !live.has(key(o))).map(key);
    expect(lost).toEqual([]);
    const differ = seeded.filter((o) => canonical(essence(live.get(key(o))!)) !== canonical(essence(o))).map(key);
    expect(differ).toEqual([]);

    expect(proxy.stats.injected.lostResponse).toBeGreaterThan(0);
    expect(failedByFault(proxy.stats)).toBeGreaterThan(0);
    expect(retries + createRetries).toBeGreaterThan(0);
    expect(retries + createRetries).toBeLessThanOrEqual(failedByFault(proxy.stats));
    expect(maxAttempts).toBeLessThan(10);
  });

  it('dropped connections (over HTTP/2 each takes every create in flight on it), --on-conflict fail: all objects back, equal, no false conflict', async () => {
    await deleteAllCatalogObjects(await testKube(), ns);
    await waitEmpty();
    // 3% of the creates drop their connection: over HTTP/2, up to --concurrency creates die at once,
    // some after the server made the object (their retry meets AlreadyExists and must find it equal).
    const proxy = await startFaultProxy({
      rate: 0.03,
      seed: 9,
      kinds: ['dropConnection'],
      maxSeconds: 400,
      match: (m) => m === 'POST',
    });
    proxies.push(proxy);
    const res = await runTool(
      [
        'restore',
        '--from',
        path.join(tmp, 'backup'),
        '--on-conflict',
        'fail',
        '--kubeconfig',
        proxy.kubeconfigPath,
        '-v',
      ],
      { timeoutMs: 400_000 },
    );
    const report = JSON.parse(await fs.readFile(path.join(tmp, 'backup', 'restore-report.json'), 'utf8')) as {
      counts: Record<string, number>;
      unresolved: number;
      items: { attempts: number }[];
    };
    console.log(
      `[faults] restore, dropped connections 3% seed 9: ${proxy.stats.requests} requests, ${proxy.stats.injected.dropConnection} connections dropped, protocols ${JSON.stringify(proxy.stats.toolProtocols)}, outcomes ${JSON.stringify(report.counts)}, exit ${res.exitCode}`,
    );
    expect(
      res.exitCode,
      res.stderr
        .split('\n')
        .filter((l) => !l.startsWith('debug:'))
        .join('\n'),
    ).toBe(0);
    await expectRealTransport(proxy);
    expect(proxy.stats.injected.dropConnection).toBeGreaterThan(0);
    expect(report.unresolved).toBe(0);
    expect(report.counts.conflict ?? 0).toBe(0);
    const live = await liveObjects(await testKube(), ns);
    expect(seeded.filter((o) => !live.has(key(o))).map(key)).toEqual([]);
    expect(seeded.filter((o) => canonical(essence(live.get(key(o))!)) !== canonical(essence(o))).map(key)).toEqual([]);
  });
});
