import type { Kube, KubeList, KubeObject } from './client.ts';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (limit/continue). */
  limit?: number;
}

/**
 * Yields pages of a list, following `continue` tokens. The next page is asked for before the
 * current one is handed over, so the server prepares it while the caller works on this one (at most
 * two pages in memory). An expired token (410) fails the list; the caller lists again.
 */
export async function* listPages<T = KubeObject>(
  kube: Kube,
  path: string,
  opts: ListOptions = {},
): AsyncGenerator<T[]> {
  const ask = (cont: string | undefined) =>
    kube.request<KubeList<T>>({
      path,
      query: {
        limit: opts.limit ?? 500,
        continue: cont,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
      },
    });
  let next: Promise<KubeList<T>> | undefined = ask(undefined);
  while (next) {
    const page: KubeList<T> = await next;
    const cont = page.metadata?.continue || undefined;
    next = cont ? ask(cont) : undefined;
    // Awaited on the next turn; a caller that stops early must not leave an unhandled rejection.
    next?.catch(() => undefined);
    yield page.items ?? [];
  }
}

/** Lists every object at `path`, page by page. */
export async function listAll<T = KubeObject>(kube: Kube, path: string, opts: ListOptions = {}): Promise<T[]> {
  const all: T[] = [];
  for await (const page of listPages<T>(kube, path, opts)) all.push(...page);
  return all;
}
