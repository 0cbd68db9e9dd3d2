/**
 * API faults between the tool and the real API server (test/support/fault-proxy.ts): a backup of a
 * few hundred objects through 30% injected faults (429 + Retry-After, 500, 503, resets, delays)
 * equals the backup taken without faults, the tool retried (and no more than the faults it met),
 * and a server that only answers 503 ends the backup with exit 1 and the failing request named,
 * within a bounded time.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, seed } from '../fixtures/backups/cluster.ts';
import { catalogCrdsReady } from '../support/crd-guard.ts';
import { failedByFault, type FaultKind } from '../support/fault-decide.ts';
import { expectRealTransport, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runTool, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('faults');
// A mesh namespace that does not exist: the backup's install.yaml is then the same in both runs.
const meshNs = uniqueName('faults-nomesh');
const perKind = 40;
let tmp: string;
let seeded = 0;
const proxies: FaultProxy[] = [];

interface ManifestLike {
  files: { path: string; kind: string; count: number; sha256: string }[];
  absent: unknown[];
}

async function readBackup(dir: string): Promise<{ manifest: ManifestLike; resources: Record<string, string> }> {
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestLike;
  const resources: Record<string, string> = {};
  for (const f of await fs.readdir(path.join(dir, 'resources')))
    resources[f] = await fs.readFile(path.join(dir, 'resources', f), 'utf8');
  return { manifest, resources };
}

function backupArgs(dir: string, extra: string[] = []): string[] {
  return ['backup', '--dir', dir, '-n', ns, '--mesh-namespace', meshNs, ...extra];
}

beforeAll(async () => {
  const kube = await testKube();
  await catalogCrdsReady(kube);
  await createNamespace(kube, ns);
  seeded = (await seed(kube, ns, perKind)).length;
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-faults-'));
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await deleteNamespace(await testKube(), ns);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('backup through injected API faults', () => {
  it(`fault-free backup of ${perKind}x7 objects (the reference)`, async () => {
    expect(seeded).toBe(perKind * 7);
    const clean = await runTool(backupArgs(path.join(tmp, 'clean')));
    expect(clean.exitCode, clean.stderr).toBe(0);
    const a = await readBackup(path.join(tmp, 'clean'));
    expect(a.manifest.files.filter((f) => f.path.startsWith('resources/')).reduce((n, f) => n + f.count, 0)).toBe(
      seeded,
    );
  });

  // Each row: the faults the proxy injects at 30%, and why the row is here.
  const rows: { seed: number; kinds?: FaultKind[]; why: string }[] = [
    { seed: 7, why: 'every kind mixed: 429, 500, 503, reset, delay' },
    { seed: 11, kinds: ['reset'], why: 'connection resets only (flaky VPN): socket errors must be retried like 5xx' },
    { seed: 23, kinds: ['throttle'], why: '429 with Retry-After: 1 only: the client must wait as told, then succeed' },
  ];
  for (const row of rows) {
    it(`30% faults, seed ${row.seed} (${row.why}): the backup equals the fault-free one; retries happened and are bounded`, async () => {
      const proxy = await startFaultProxy({
        rate: 0.3,
        seed: row.seed,
        ...(row.kinds ? { kinds: row.kinds } : {}),
        maxSeconds: 300,
      });
      proxies.push(proxy);
      const dir = path.join(tmp, `faulty-${row.seed}`);
      const started = Date.now();
      const faulty = await runTool(backupArgs(dir, ['--kubeconfig', proxy.kubeconfigPath, '-v', '--concurrency', '4']));
      const seconds = (Date.now() - started) / 1000;
      const retries = faulty.stderr.split('\n').filter((l) => /retrying (GET|POST|PUT|PATCH|DELETE) /.test(l)).length;
      console.log(
        `[faults] 30% seed ${row.seed} kinds ${row.kinds?.join(',') ?? 'all'}: ${proxy.stats.requests} requests, injected ${JSON.stringify(proxy.stats.injected)}, tool retries ${retries}, ${seconds.toFixed(1)}s, exit ${faulty.exitCode}`,
      );
      expect(faulty.exitCode, faulty.stderr).toBe(0);
      await expectRealTransport(proxy);

      const a = await readBackup(path.join(tmp, 'clean'));
      const b = await readBackup(dir);
      expect(b.resources).toEqual(a.resources);
      expect(b.manifest.files).toEqual(a.manifest.files);

      expect(failedByFault(proxy.stats)).toBeGreaterThan(0);
      expect(retries).toBeGreaterThan(0);
      // Every retry answers a fault the proxy injected; discovery requests are not retried by design.
      expect(retries).toBeLessThanOrEqual(failedByFault(proxy.stats));
    });
  }

  it('a 429 on discovery of one served version (specs.smi.nginx.com/v1alpha2) does not silently switch RateLimit to another version', async () => {
    // Only the discovery request of the storage version is throttled; everything else passes.
    const proxy = await startFaultProxy({
      rate: 1,
      seed: 1,
      kinds: ['throttle'],
      maxSeconds: 120,
      match: (m, url) => m === 'GET' && url.split('?')[0] === '/apis/specs.smi.nginx.com/v1alpha2',
    });
    proxies.push(proxy);
    const dir = path.join(tmp, 'disc-429');
    const res = await runTool(backupArgs(dir, ['--kubeconfig', proxy.kubeconfigPath]));
    console.log(
      `[faults] discovery 429 on specs.smi.nginx.com/v1alpha2: injected ${proxy.stats.injected.throttle}, exit ${res.exitCode}`,
    );
    expect(proxy.stats.injected.throttle).toBeGreaterThan(0);
    await expectRealTransport(proxy);
    if (res.exitCode === 0) {
      const b = await readBackup(dir);
      const a = await readBackup(path.join(tmp, 'clean'));
      expect(b.manifest.files.find((f) => f.kind === 'RateLimit')).toEqual(
        a.manifest.files.find((f) => f.kind === 'RateLimit'),
      );
    } else {
      expect(res.stderr).toMatch(/specs\.smi\.nginx\.com\/v1alpha2/);
    }
  });

  it('100% 503: the backup fails with exit 1, names the request, and gives up within 60 s', async () => {
    const proxy = await startFaultProxy({ rate: 1, seed: 1, kinds: ['unavailable'], maxSeconds: 120 });
    proxies.push(proxy);
    const started = Date.now();
    const res = await runTool(backupArgs(path.join(tmp, 'down'), ['--kubeconfig', proxy.kubeconfigPath, '-v']), {
      timeoutMs: 90_000,
    });
    const seconds = (Date.now() - started) / 1000;
    const retries = res.stderr.split('\n').filter((l) => /retrying /.test(l)).length;
    console.log(
      `[faults] 100% 503: ${proxy.stats.requests} requests, ${proxy.stats.injected.unavailable} 503s, tool retries ${retries}, ${seconds.toFixed(1)}s, exit ${res.exitCode}`,
    );
    expect(res.exitCode, res.stderr).toBe(1);
    await expectRealTransport(proxy);
    expect(res.stderr).toMatch(/503 ServiceUnavailable GET \/\S+/);
    expect(seconds).toBeLessThan(60);
    // Bounded: the default policy makes 6 attempts per request (5 retries), never an endless loop.
    expect(proxy.stats.requests).toBeLessThanOrEqual(6 * 4);
    await expect(fs.stat(path.join(tmp, 'down', 'manifest.json'))).rejects.toThrow(/ENOENT/);
  });
});
