/**
 * The maintenance window a run took, as the platform engineer books it: in all, and per hop the
 * time with no ready control plane, the policy gap (the mesh's custom resources gone) and the time
 * the data plane took to converge on the new sidecars.
 *
 *   windowReport(plan, marks, now): RunWindow          pure
 *   formatWindow(w): string[]                           the summary's lines
 *
 * Every figure is the difference of two marks (window-observe.ts takes them while the steps run and
 * journals each at once, so a resumed run reports the whole window). A mark says whose clock it is:
 * `cluster` (a timestamp the API server wrote: a CRD's deletionTimestamp, an object's
 * creationTimestamp, a condition's lastTransitionTime or lastUpdateTime; whole seconds) or `tool`
 * (this process's clock, when the cluster keeps no timestamp of the moment: a command started, a
 * step began). A figure between the two clocks includes any skew between them. The marks are
 * journaled as `window` records (journal-schema.ts checks their shape).
 */
import type { Hop, Plan, StepKind } from './types.ts';

/** What a mark marks (the journal's schema takes these names). */
export const markKinds = [
  'step-start',
  'step-end',
  // The first removal or upgrade command of the hop started (remove, upgrade, helm-rollback).
  'command',
  // A CRD of a backed-up kind got its deletionTimestamp (its objects go with it); `what` is the CRD.
  'crd-deleted',
  // Every control plane pod Ready: the newest Ready transition.
  'control-plane-ready',
  // The newest creationTimestamp among the objects a restore created.
  'restored',
  // The last restarted workload's rollout complete.
  'rolled-out',
] as const;
export type MarkKind = (typeof markKinds)[number];

export interface WindowMark {
  step: string;
  mark: MarkKind;
  /** ISO time. */
  time: string;
  source: 'cluster' | 'tool';
  what?: string | undefined;
}

export interface Span {
  seconds: number;
  from: { at: string; source: 'cluster' | 'tool'; what: string };
  to: { at: string; source: 'cluster' | 'tool'; what: string };
}

/** A figure, or why there is none. */
export type Figure = Span | { seconds: null; why: string };

export interface HopWindow {
  hop: number;
  from: string;
  to: string;
  strategy: string;
  controlPlaneDown: Figure;
  policyGap: Figure;
  dataPlane: Figure;
}

export interface RunWindow {
  /** From the first step's start to the last step's end (tool clock), across resumes (a pause counts). */
  totalSeconds: number;
  startedAt: string;
  finishedAt: string;
  /** The time the steps ran, without the pauses between an interrupted run and its resume. */
  stepSeconds: number;
  hops: HopWindow[];
  /** Whose clocks the figures read, in a sentence. */
  clocks: string;
}

const ms = (iso: string) => Date.parse(iso);

/** Where each figure starts and ends, by the kind of step that marks it. */
const downStart: ReadonlySet<StepKind> = new Set(['remove', 'upgrade', 'helm-rollback']);
const gapEnd: ReadonlySet<StepKind> = new Set(['restore', 'restore-resources']);
const restartKinds: ReadonlySet<StepKind> = new Set(['restart']);

function span(
  from: WindowMark | undefined,
  to: WindowMark | undefined,
  fromWhat: string,
  toWhat: string,
  why: string,
): Figure {
  if (!from || !to) return { seconds: null, why };
  return {
    seconds: Math.max(0, (ms(to.time) - ms(from.time)) / 1000),
    from: { at: from.time, source: from.source, what: fromWhat },
    to: { at: to.time, source: to.source, what: toWhat },
  };
}

const earliest = (marks: WindowMark[]) =>
  marks.reduce<WindowMark | undefined>((a, m) => (!a || ms(m.time) < ms(a.time) ? m : a), undefined);
const latest = (marks: WindowMark[]) =>
  marks.reduce<WindowMark | undefined>((a, m) => (!a || ms(m.time) > ms(a.time) ? m : a), undefined);

function hopWindow(hop: Hop, marks: readonly WindowMark[]): HopWindow {
  const ids = new Set<string>(hop.steps.map((s) => s.id));
  const kindOf = new Map<string, StepKind>(hop.steps.map((s) => [s.id, s.kind]));
  const of = (mark: MarkKind, kinds?: ReadonlySet<StepKind>) =>
    marks.filter((m) => ids.has(m.step) && m.mark === mark && (!kinds || kinds.has(kindOf.get(m.step)!)));
  const has = (kinds: ReadonlySet<StepKind>) => hop.steps.some((s) => kinds.has(s.kind));

  const command = earliest(of('command', downStart));
  const ready = earliest(of('control-plane-ready'));
  const controlPlaneDown = !has(downStart)
    ? { seconds: null, why: 'this hop neither removes nor upgrades the control plane' }
    : span(
        command,
        ready,
        `the first ${command ? kindOf.get(command.step) : 'removal or upgrade'} command started`,
        'every control plane pod Ready (newest Ready transition)',
        command ? 'the new control plane was not seen ready' : 'no removal or upgrade command ran',
      );

  const deleted = earliest(of('crd-deleted'));
  const restored = latest(of('restored', gapEnd));
  const policyGap = !has(gapEnd)
    ? { seconds: null, why: 'in place: no custom resource was deleted' }
    : !deleted
      ? { seconds: null, why: 'no CRD holding backed-up objects was seen deleted' }
      : span(
          deleted,
          restored,
          deleted.source === 'cluster'
            ? `CRD ${deleted.what} deleted (deletionTimestamp)`
            : `CRD ${deleted.what} gone by the end of ${deleted.step} (its deletion not seen)`,
          'the last object re-created (creationTimestamp)',
          'no object was re-created',
        );

  const restartStart = earliest(of('step-start', restartKinds));
  const rolled = latest(of('rolled-out', restartKinds));
  const restartEnded = of('step-end', restartKinds).length > 0;
  const dataPlane = !restartStart
    ? { seconds: null, why: 'this hop does not restart' }
    : span(
        restartStart,
        rolled,
        'restart started',
        rolled?.what ?? 'the last rollout complete',
        restartEnded ? 'nothing was restarted (no workload behind, or --restart none)' : 'the restart did not finish',
      );

  return { hop: hop.index, from: hop.from, to: hop.to, strategy: hop.strategy, controlPlaneDown, policyGap, dataPlane };
}

/** The run's window from its marks (this run's and, resumed, the earlier runs'); `now` ends it when no step-end is marked yet. */
export function windowReport(plan: Pick<Plan, 'hops'>, marks: readonly WindowMark[], now: number): RunWindow {
  const starts = marks.filter((m) => m.mark === 'step-start');
  const ends = marks.filter((m) => m.mark === 'step-end');
  const first = earliest(starts)?.time ?? new Date(now).toISOString();
  const last = latest(ends)?.time ?? new Date(now).toISOString();
  // Each step's last run: a step interrupted and run again counts once, as it ran to its end.
  let stepMs = 0;
  for (const end of ends) {
    const start = latest(starts.filter((s) => s.step === end.step && ms(s.time) <= ms(end.time)));
    if (start) stepMs += ms(end.time) - ms(start.time);
  }
  return {
    totalSeconds: Math.max(0, (ms(last) - ms(first)) / 1000),
    startedAt: first,
    finishedAt: last,
    stepSeconds: stepMs / 1000,
    hops: plan.hops.map((h) => hopWindow(h, marks)),
    clocks:
      "cluster: timestamps the API server wrote (whole seconds); tool: this machine's clock, where the cluster keeps none of the moment",
  };
}

const secs = (s: number) => `${s.toFixed(1)} s`;
const clock = (iso: string) => iso.slice(11, 19);

function line(label: string, f: Figure): string {
  if (f.seconds === null) return `    ${label.padEnd(24)} -        (${f.why})`;
  return `    ${label.padEnd(24)} ${secs(f.seconds).padStart(8)} (${f.from.what} ${clock(f.from.at)} [${f.from.source}] -> ${f.to.what} ${clock(f.to.at)} [${f.to.source}])`;
}

/** The summary's lines: the total, then per hop its three figures, each with its two marks and their clocks. */
export function formatWindow(w: RunWindow | undefined): string[] {
  if (!w) return [];
  const paused =
    w.totalSeconds - w.stepSeconds > 1
      ? `; the steps ran ${secs(w.stepSeconds)}, the rest was pauses between runs`
      : '';
  return [
    `Maintenance window: ${secs(w.totalSeconds)} (${w.startedAt.slice(0, 19)}Z to ${w.finishedAt.slice(0, 19)}Z${paused})`,
    ...w.hops.flatMap((h) => [
      `  hop ${h.hop} (${h.from} -> ${h.to}, ${h.strategy}):`,
      line('no ready control plane', h.controlPlaneDown),
      line('policy gap', h.policyGap),
      line('data plane converged in', h.dataPlane),
    ]),
    `  (${w.clocks})`,
  ];
}
