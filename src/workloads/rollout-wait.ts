/**
 * The shapes of waiting for a rollout (rollout-watch.ts waits): which API each rolling kind lives
 * in, the options, and the results with their messages, which name the workload and, on a
 * timeout, the flag and the last status `kubectl rollout status` would show.
 */
import { core } from '../kube/paths.ts';
import type { WorkloadRef } from './owners.ts';
import type { RolloutStatus } from './rollout-rules.ts';

export const workloadRefs = {
  Deployment: core.deployments,
  StatefulSet: core.statefulsets,
  DaemonSet: core.daemonsets,
} as const;

export interface WaitOptions {
  timeoutMs: number;
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
  return {
    state: s.state === 'done' ? 'done' : 'failed',
    message: s.state === 'done' ? s.message : `${describe(w)}: ${s.message}`,
    seconds,
  };
}

export function timeoutResult(w: WorkloadRef, timeoutMs: number, lastMessage: string, seconds: number): WaitResult {
  return {
    state: 'timeout',
    message: `${describe(w)} did not finish rolling out within ${Math.round(timeoutMs / 1000)}s (--timeout): ${lastMessage}`,
    seconds,
  };
}
