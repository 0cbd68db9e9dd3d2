/**
 * Waits for one workload's rollout, applying the `kubectl rollout status` rules, with a deadline
 * that names the workload when it passes. Like kubectl it reads the object, then watches it (one
 * object, by field selector, from the resourceVersion read), so a rollout is seen the moment the
 * controller reports it; when the watch ends early (server timeout, 410, a dropped connection) it
 * reads again after a short pause and watches again.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import type { WorkloadRef } from './owners.ts';
import { isRollingKind, rolloutRules, type RolloutStatus } from './rollout-rules.ts';

export const workloadRefs = {
  Deployment: core.deployments,
  StatefulSet: core.statefulsets,
  DaemonSet: core.daemonsets,
} as const;

export interface WaitOptions {
  timeoutMs: number;
  /** Pause before reading again when a watch ended early (default 200 ms). */
  pollMs?: number | undefined;
  /** Called when the status message changes (a progress line per workload). */
  onMessage?: ((message: string) => void) | undefined;
}

export interface WaitResult {
  state: 'done' | 'failed' | 'timeout';
  message: string;
  seconds: number;
}

export function describe(w: WorkloadRef): string {
  return `${w.kind.toLowerCase()} ${w.namespace}/${w.name}`;
}

export function deletedResult(w: WorkloadRef, seconds: number): WaitResult {
  return { state: 'failed', message: `${describe(w)} was deleted while rolling out`, seconds };
}

/** Done or failed, by the rules. */
export function settledResult(w: WorkloadRef, s: RolloutStatus, seconds: number): WaitResult {
  return { state: s.state === 'done' ? 'done' : 'failed', message: s.state === 'done' ? s.message : `${describe(w)}: ${s.message}`, seconds };
}

export function timeoutResult(w: WorkloadRef, timeoutMs: number, lastMessage: string, seconds: number): WaitResult {
  return { state: 'timeout', message: `${describe(w)} did not finish rolling out within ${Math.round(timeoutMs / 1000)}s (--timeout): ${lastMessage}`, seconds };
}

export async function waitForRollout(deps: Pick<Deps, 'kube' | 'clock'>, w: WorkloadRef, opts: WaitOptions): Promise<WaitResult> {
  if (!isRollingKind(w.kind)) throw new Error(`no rollout rules for kind ${w.kind}`);
  const ref = workloadRefs[w.kind];
  const rule = rolloutRules[w.kind];
  const start = deps.clock.now();
  const seconds = () => Math.round((deps.clock.now() - start) / 100) / 10;
  let last: RolloutStatus = { state: 'waiting', message: 'not read yet' };
  let reported = '';
  let deleted = false;
  const see = (obj: unknown) => {
    last = rule(obj);
    if (last.state === 'waiting' && last.message !== reported) opts.onMessage?.((reported = last.message));
  };
  const finished = (): WaitResult | undefined => {
    if (deleted) return deletedResult(w, seconds());
    if (last.state !== 'waiting') return settledResult(w, last, seconds());
    if (deps.clock.now() - start >= opts.timeoutMs) return timeoutResult(w, opts.timeoutMs, last.message, seconds());
    return undefined;
  };
  for (;;) {
    let resourceVersion: string | undefined;
    try {
      const obj = await deps.kube.request<KubeObject & { metadata?: { resourceVersion?: string } }>({ path: objectPath(ref, w.name, w.namespace) });
      resourceVersion = obj.metadata?.resourceVersion;
      see(obj);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      deleted = true;
    }
    const early = finished();
    if (early) return early;
    const left = start + opts.timeoutMs - deps.clock.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), left);
    try {
      await deps.kube.watch(collectionPath(ref, w.namespace), { fieldSelector: `metadata.name=${w.name}`, resourceVersion, timeoutSeconds: Math.max(1, Math.ceil(left / 1000)) }, (e) => {
        if (e.type === 'DELETED') deleted = true;
        else if (e.type === 'ADDED' || e.type === 'MODIFIED') see(e.object);
        if (e.type === 'ERROR' || deleted || last.state !== 'waiting') abort.abort(); // ERROR: e.g. 410 Gone, read again
      }, abort.signal);
    } catch { /* a dropped watch: read again below */ } finally {
      clearTimeout(timer);
    }
    const result = finished();
    if (result) return result;
    await deps.clock.sleep(Math.min(opts.pollMs ?? 200, Math.max(0, start + opts.timeoutMs - deps.clock.now())));
  }
}
