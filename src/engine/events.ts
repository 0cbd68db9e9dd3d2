/**
 * A run's `-o json` output: one event per line for each gate and step of its task list, written by
 * gates.ts and walk.ts and read back by a fleet, which drives each cluster's task group from its
 * run's events (fleet/child-events.ts). One type for the writer and the reader.
 */
import { scrub } from '../secret.ts';
import type { RunWindow } from './window.ts';

/** What an event says, by kind; `step` is a step id (`hop1.backup`) or a gate's (`preflight`, `confirm`, `lease`, `prepull`). */
export type RunEventBody =
  | { event: 'start'; title: string }
  | { event: 'progress'; message: string }
  | {
      event: 'done';
      message?: string | undefined;
      skipped?: string | undefined;
      unresolved?: string[] | undefined;
      data?: unknown;
    }
  | { event: 'skipped'; reason: string }
  | { event: 'failed'; error: string }
  /** The run's maintenance window (window.ts), its last event (step `window`). */
  | ({ event: 'window' } & RunWindow);

/** An event as written; a fleet relays each cluster's run events with the cluster's context. */
export type RunEvent = RunEventBody & { at: string; step: string; context?: string | undefined };

/** The line for an event, every known secret scrubbed. */
export function eventLine(e: RunEvent): string {
  return scrub(JSON.stringify(e));
}

const textFields: Record<RunEventBody['event'], readonly string[]> = {
  start: ['title'],
  progress: ['message'],
  done: [],
  skipped: ['reason'],
  failed: ['error'],
  window: ['startedAt', 'finishedAt', 'clocks'],
};

/** One line of a run's stdout: its event, or undefined for any other line ("NSM is already on 2.0.0; nothing to do."). */
export function parseEventLine(line: string): RunEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return undefined;
  const o = e as Record<string, unknown>;
  if (typeof o.step !== 'string' || typeof o.event !== 'string' || !(o.event in textFields)) return undefined;
  if (textFields[o.event as RunEventBody['event']].some((f) => typeof o[f] !== 'string')) return undefined;
  return o as RunEvent;
}
