/**
 * The restore's read-back, page by page: an object the server then lacks is "not found after
 * restore", one that differs is reported as differing, the rest are verified. Against an in-memory
 * API that answers creates, paged lists (two objects per page) and the CRD check.
 */
import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { realClock } from '../../../src/clock.ts';
import type { Kube, KubeObject, KubeRequest } from '../../../src/kube/client.ts';
import { restoreBackup } from '../../../src/backup/restore.ts';
import { resourceFile, writeFixture } from '../../fixtures/backups/build.ts';

const ns = 'shop';
const split = (i: number) => ({
  apiVersion: 'split.smi-spec.io/v1alpha3',
  kind: 'TrafficSplit',
  metadata: { name: `web-${i}`, namespace: ns },
  spec: { service: `web-${i}`, backends: [{ service: 'v1', weight: 100 }] },
});

/** Stores creates; lists pages of two; `after` edits what the server holds once every create is in. */
function fakeApi(after: (store: Map<string, KubeObject>) => void): Kube {
  const store = new Map<string, KubeObject>();
  let edited = false;
  const crd = {
    metadata: { name: 'trafficsplits.split.smi-spec.io' },
    spec: { versions: [{ name: 'v1alpha3', served: true }] },
    status: { conditions: [{ type: 'Established', status: 'True' }] },
  };
  return {
    server: 'https://fake',
    context: 'fake',
    retries: 0,
    pinnedKubeconfig: () => '{}',
    serverNow: () => Date.now(),
    async request<T>(r: KubeRequest): Promise<T> {
      if (r.path.includes('customresourcedefinitions'))
        return { metadata: { resourceVersion: '1' }, items: [crd] } as T;
      if (r.path === '/api/v1/namespaces')
        return { metadata: {}, items: [{ metadata: { name: ns }, status: { phase: 'Active' } }] } as T;
      if (r.method === 'POST') {
        const o = r.body as KubeObject;
        store.set(o.metadata!.name!, structuredClone(o));
        return undefined as T;
      }
      if (!edited) {
        after(store);
        edited = true;
      }
      const all = [...store.values()].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
      const from = Number(r.query?.continue ?? 0);
      const next = from + 2 < all.length ? String(from + 2) : undefined;
      return { metadata: { continue: next }, items: all.slice(from, from + 2) } as T;
    },
    async watch() {
      throw new Error('not used: the CRD is Established at once');
    },
  };
}

async function restoreWith(after: (store: Map<string, KubeObject>) => void) {
  return restoreMany(5, after);
}

/** Restores `n` TrafficSplits through the fake API; `fsFor` wraps the file system (to watch the reads). */
async function restoreMany(
  n: number,
  after: (store: Map<string, KubeObject>) => void,
  fsFor: (real: typeof fs) => typeof fs = (f) => f,
  kube?: Kube,
  collect?: () => void,
) {
  const dir = await writeFixture({
    files: [
      resourceFile(
        'trafficsplits.split.smi-spec.io.yaml',
        'TrafficSplit',
        'split.smi-spec.io',
        'v1alpha3',
        Array.from({ length: n }, (_, i) => split(i)),
      ),
    ],
  });
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: () => undefined };
  const deps = { kube: kube ?? fakeApi(after), fs: fsFor(fs), clock: realClock, log } as unknown as Deps;
  try {
    return await restoreBackup(deps, {
      dir,
      onConflict: 'skip',
      dryRun: false,
      timeoutMs: 10_000,
      concurrency: 2,
      ...(collect ? { collect } : {}),
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('restore read-back', () => {
  it('verifies every object when the server holds them as backed up', async () => {
    const report = await restoreWith(() => undefined);
    expect(report.items.map((i) => [i.name, i.outcome, i.verified])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [`web-${i}`, 'created', true]),
    );
  });

  it('names an object gone after the restore and one changed under it, across pages', async () => {
    const report = await restoreWith((store) => {
      store.delete('web-1');
      (store.get('web-4')!.spec as { service: string }).service = 'changed';
    });
    const byName = new Map(report.items.map((i) => [i.name, i]));
    expect(byName.get('web-1')).toMatchObject({ verified: false, detail: 'not found after restore' });
    expect(byName.get('web-4')).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/differ from the backup after restore/),
    });
    expect([0, 2, 3].map((i) => byName.get(`web-${i}`)!.verified)).toEqual([true, true, true]);
    expect(report.unresolved).toBe(2);
  });
});

describe('restore streams the backup', () => {
  it('ticks the memory collector once per part it reads: 250 objects are three parts of at most 100', async () => {
    let ticks = 0;
    const report = await restoreMany(
      250,
      () => undefined,
      undefined,
      undefined,
      () => ticks++,
    );
    expect(report.counts.created).toBe(250);
    expect(ticks).toBe(3);
  });

  it('creates the first objects before it has read the file to its end, with at most --concurrency creates in flight', async () => {
    // The file is read 4 KB at a time; each read and each create is logged in order.
    const events: string[] = [];
    const small = (real: typeof fs): typeof fs => ({
      ...real,
      open: async (...a: Parameters<typeof fs.open>) => {
        const fh = await real.open(...a);
        if (!String(a[0]).endsWith('trafficsplits.split.smi-spec.io.yaml')) return fh;
        let upto = 0;
        const read = fh.read.bind(fh);
        return Object.assign(fh, {
          read: async (b: Buffer, o: number, l: number, p: null) => {
            const r = await read(b, o, Math.min(l, 4096), p);
            upto += r.bytesRead;
            events.push(`read ${upto}`);
            return r;
          },
        });
      },
    });
    let inFlight = 0;
    let most = 0;
    const inner = fakeApi(() => undefined);
    const slow: Kube = {
      ...inner,
      async request<T>(r: KubeRequest): Promise<T> {
        if (r.method !== 'POST') return inner.request<T>(r);
        most = Math.max(most, ++inFlight);
        events.push('create');
        await new Promise((res) => setTimeout(res, 1));
        inFlight--;
        return inner.request<T>(r);
      },
    };
    const report = await restoreMany(600, () => undefined, small, slow);
    expect(report.counts.created).toBe(600);
    expect(report.items.every((i) => i.verified)).toBe(true);
    // The verify pass reads the file first, nothing created; the restore's own pass reads it again as it creates.
    const firstCreate = events.indexOf('create');
    const fileBytes = Math.max(...events.filter((e) => e.startsWith('read ')).map((e) => Number(e.slice(5))));
    const readsAfter = events
      .slice(firstCreate)
      .filter((e) => e.startsWith('read '))
      .map((e) => Number(e.slice(5)));
    expect(readsAfter.length).toBeGreaterThan(0);
    expect(Math.max(...readsAfter)).toBe(fileBytes);
    expect(
      Number(
        events
          .slice(0, firstCreate)
          .filter((e) => e.startsWith('read '))
          .at(-1)!
          .slice(5),
      ),
    ).toBeLessThan(fileBytes / 2);
    expect(most).toBeLessThanOrEqual(2);
  });
});
