/**
 * The API server's own request counters (apiserver_request_total from /metrics), read before and
 * after a run: what a client really asked for (how many LISTs and WATCHes, how many 429s), counted
 * by the server, not by the client's own account.
 */
import { execa } from 'execa';
import { kubeconfig, kubectlBin } from './local.ts';

export type Counts = Map<string, number>;

/** `VERB resource code` -> requests so far, for every resource. */
export async function apiCounts(): Promise<Counts> {
  const { stdout } = await execa(kubectlBin, ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics']);
  const counts: Counts = new Map();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (k: string) => new RegExp(`[{,]${k}="([^"]*)"`).exec(line)?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''} ${label('code')}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** Requests between two readings whose key matches `re` (e.g. /^WATCH deployments /). */
export function delta(before: Counts, after: Counts, re: RegExp): number {
  let n = 0;
  for (const [k, v] of after) if (re.test(k)) n += v - (before.get(k) ?? 0);
  return n;
}
