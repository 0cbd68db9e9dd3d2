/**
 * Waits for one workload's rollout by polling it and applying the `kubectl rollout status` rules,
 * with a deadline that names the workload when it passes. Polling (not a watch per workload) keeps
 * sockets free for the other rollouts running at the same time.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, objectPath } from '../kube/paths.ts';
import type { WorkloadRef } from './owners.ts';
import { isRollingKind, rolloutRules, type RolloutStatus } from './rollout-rules.ts';

export const workloadRefs = {
  Deployment: core.deployments,
  StatefulSet: core.statefulsets,
  DaemonSet: core.daemonsets,
} as const;

const maxPollMs = 500;

export interface WaitOptions {
  timeoutMs: number;
  /** Between two reads: the first wait; it grows by half each read up to 500 ms (default 200 ms). */
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

export async function waitForRollout(deps: Pick<Deps, 'kube' | 'clock'>, w: WorkloadRef, opts: WaitOptions): Promise<WaitResult> {
  if (!isRollingKind(w.kind)) throw new Error(`no rollout rules for kind ${w.kind}`);
  const path = objectPath(workloadRefs[w.kind], w.name, w.namespace);
  const rule = rolloutRules[w.kind];
  const start = deps.clock.now();
  const seconds = () => Math.round((deps.clock.now() - start) / 100) / 10;
  let last: RolloutStatus = { state: 'waiting', message: 'not read yet' };
  let reported = '';
  // Short rollouts (most of them) are seen as soon as they finish; long ones are read twice a second.
  let delay = opts.pollMs ?? 200;
  for (;;) {
    try {
      last = rule(await deps.kube.request({ path }));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return { state: 'failed', message: `${describe(w)} was deleted while rolling out`, seconds: seconds() };
      throw err;
    }
    if (last.state !== 'waiting') return { state: last.state, message: last.state === 'done' ? last.message : `${describe(w)}: ${last.message}`, seconds: seconds() };
    if (last.message !== reported) opts.onMessage?.((reported = last.message));
    const left = start + opts.timeoutMs - deps.clock.now();
    if (left <= 0) {
      return {
        state: 'timeout',
        message: `${describe(w)} did not finish rolling out within ${Math.round(opts.timeoutMs / 1000)}s (--timeout): ${last.message}`,
        seconds: seconds(),
      };
    }
    await deps.clock.sleep(Math.min(delay, left));
    delay = Math.min(maxPollMs, Math.max(delay, Math.round(delay * 1.5)));
  }
}
