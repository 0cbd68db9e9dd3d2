import type { Kube, KubeList, KubeObject, Query } from './client.ts';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (limit/continue). */
  limit?: number;
}

/** Yields pages of a list, following `continue` tokens; a 410 (token expired) restarts the list. */
export async function* listPages<T = KubeObject>(kube: Kube, path: string, opts: ListOptions = {}): AsyncGenerator<T[]> {
  let cont: string | undefined;
  do {
    const query: Query = { limit: opts.limit ?? 500, continue: cont, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    const page = await kube.request<KubeList<T>>({ path, query });
    yield page.items ?? [];
    cont = page.metadata?.continue || undefined;
  } while (cont);
}

/** Lists every object at `path`, page by page. */
export async function listAll<T = KubeObject>(kube: Kube, path: string, opts: ListOptions = {}): Promise<T[]> {
  const all: T[] = [];
  for await (const page of listPages<T>(kube, path, opts)) all.push(...page);
  return all;
}
