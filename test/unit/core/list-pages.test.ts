import { describe, expect, it } from 'vitest';
import type { Kube, KubeRequest } from '../../../src/kube/client.ts';
import { listPages } from '../../../src/kube/list.ts';

/** Three pages of two; records every request as it is made, and can fail one page. */
function pagedApi(events: string[], failAt?: string): Kube {
  return {
    server: 'x',
    context: 'x',
    retries: 0,
    pinnedKubeconfig: () => '{}',
    serverNow: () => Date.now(),
    async request<T>(r: KubeRequest): Promise<T> {
      const from = Number(r.query?.continue ?? 0);
      events.push(`ask ${from}`);
      await new Promise((res) => setTimeout(res, 5));
      if (String(from) === failAt) throw new Error(`page ${from} failed`);
      return { metadata: { continue: from + 2 < 6 ? String(from + 2) : undefined }, items: [from, from + 1] } as T;
    },
    async watch() {},
  };
}

describe('listPages', () => {
  it('asks for the next page before handing over the current one, and yields every page in order', async () => {
    const events: string[] = [];
    const pages: number[][] = [];
    for await (const page of listPages<number>(pagedApi(events), '/x')) {
      events.push(`got ${page[0]}`);
      pages.push(page);
    }
    expect(pages).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(events).toEqual(['ask 0', 'ask 2', 'got 0', 'ask 4', 'got 2', 'got 4']);
  });

  it("fails with the failing page's error, and a caller that stops early leaves no unhandled rejection behind", async () => {
    const pages: number[][] = [];
    await expect(
      (async () => {
        for await (const page of listPages<number>(pagedApi([], '2'), '/x')) pages.push(page);
      })(),
    ).rejects.toThrow('page 2 failed');
    expect(pages).toEqual([[0, 1]]);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for await (const page of listPages<number>(pagedApi([], '2'), '/x')) {
        expect(page).toEqual([0, 1]);
        break;
      }
      await new Promise((res) => setTimeout(res, 30)); // the prefetched page fails meanwhile
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
