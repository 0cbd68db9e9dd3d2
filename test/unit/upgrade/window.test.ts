/**
 * The maintenance window from its marks (src/engine/window.ts): each figure is the difference of
 * two marks and says whose clock each end reads; what cannot be measured says why; a resumed run's
 * marks from the runs before it count; the journal refuses a mark that does not fit.
 */
import { describe, expect, it } from 'vitest';
import { formatWindow, windowReport, type WindowMark } from '../../../src/engine/window.ts';
import { journalSchemaVersion, parseJournal } from '../../../src/engine/journal.ts';
import type { Hop, Step, StepKind } from '../../../src/engine/types.ts';

const hop = (index: number, strategy: 'manual' | 'in-place', kinds: StepKind[]): Hop => ({
  index,
  from: '1.6.0',
  to: '1.7.0',
  strategy,
  reason: '',
  method: 'meshctl',
  steps: kinds.map(
    (k) =>
      ({
        id: `hop${index}.${k}`,
        kind: k,
        title: k,
        destructive: false,
        writes: true,
        commands: [],
        params: {},
      }) as unknown as Step,
  ),
});
const manual = hop(1, 'manual', ['backup', 'remove', 'deploy', 'restore', 'restart', 'verify']);
const t = (s: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, 0) + s * 1000).toISOString();
const m = (
  step: string,
  mark: WindowMark['mark'],
  s: number,
  source: 'cluster' | 'tool' = 'tool',
  what?: string,
): WindowMark => ({ step, mark, time: t(s), source, ...(what ? { what } : {}) });

/** A manual hop as window-observe.ts marks it: steps back to back, the cluster's moments inside them. */
const manualMarks: WindowMark[] = [
  m('hop1.backup', 'step-start', 0),
  m('hop1.backup', 'step-end', 5),
  m('hop1.remove', 'step-start', 5),
  m('hop1.remove', 'command', 6),
  m('hop1.remove', 'crd-deleted', 8, 'cluster', 'trafficsplits.split.smi-spec.io'),
  m('hop1.remove', 'crd-deleted', 7, 'cluster', 'ratelimits.specs.smi.nginx.com'),
  m('hop1.remove', 'step-end', 20),
  m('hop1.deploy', 'step-start', 20),
  m('hop1.deploy', 'step-end', 50),
  m('hop1.deploy', 'control-plane-ready', 48, 'cluster'),
  m('hop1.restore', 'step-start', 50),
  m('hop1.restore', 'restored', 61, 'cluster'),
  m('hop1.restore', 'step-end', 62),
  m('hop1.restart', 'step-start', 62),
  m('hop1.restart', 'rolled-out', 90, 'cluster', 'the last Deployment rollout complete'),
  m('hop1.restart', 'step-end', 91),
  m('hop1.verify', 'step-start', 91),
  m('hop1.verify', 'step-end', 95),
];

describe('windowReport', () => {
  it('a manual hop: control plane down from the removal command to every pod Ready, the policy gap from the first CRD deleted to the last object re-created, the restart to its last rollout', () => {
    const w = windowReport({ hops: [manual] }, manualMarks, Date.parse(t(200)));
    expect([w.totalSeconds, w.stepSeconds, w.startedAt, w.finishedAt]).toEqual([95, 95, t(0), t(95)]);
    const h = w.hops[0]!;
    expect(h.controlPlaneDown).toMatchObject({
      seconds: 42,
      from: { at: t(6), source: 'tool' },
      to: { at: t(48), source: 'cluster' },
    });
    expect(h.policyGap).toMatchObject({
      seconds: 54,
      from: { at: t(7), source: 'cluster', what: 'CRD ratelimits.specs.smi.nginx.com deleted (deletionTimestamp)' },
      to: { at: t(61), source: 'cluster' },
    });
    expect(h.dataPlane).toMatchObject({
      seconds: 28,
      from: { at: t(62), source: 'tool' },
      to: { at: t(90), source: 'cluster' },
    });
  });

  it('an in-place hop has no policy gap; a figure whose end was never seen says why', () => {
    const inPlace = hop(1, 'in-place', ['backup', 'upgrade', 'restart', 'verify']);
    const w = windowReport(
      { hops: [inPlace] },
      [
        m('hop1.upgrade', 'step-start', 1),
        m('hop1.upgrade', 'command', 2),
        m('hop1.upgrade', 'step-end', 9),
        m('hop1.restart', 'step-start', 9),
        m('hop1.restart', 'step-end', 10),
      ],
      Date.parse(t(10)),
    );
    const h = w.hops[0]!;
    expect(h.policyGap).toEqual({ seconds: null, why: 'in place: no custom resource was deleted' });
    expect(h.controlPlaneDown).toEqual({ seconds: null, why: 'the new control plane was not seen ready' });
    expect(h.dataPlane).toEqual({
      seconds: null,
      why: 'nothing was restarted (no workload behind, or --restart none)',
    });
  });

  it("a resumed run: the marks of the killed run count, the pause is in the total but not in the steps' time", () => {
    // Killed during the deploy (its first start has no end); resumed 600 s later, the deploy runs again.
    const killed = manualMarks.filter(
      (x) => Date.parse(x.time) <= Date.parse(t(20)) || (x.step === 'hop1.deploy' && x.mark === 'step-start'),
    );
    const resumed = manualMarks
      .filter((x) => !killed.includes(x))
      .map((x) => ({ ...x, time: t((Date.parse(x.time) - Date.parse(t(0))) / 1000 + 600) }));
    const w = windowReport(
      { hops: [manual] },
      [...killed, m('hop1.deploy', 'step-start', 620), ...resumed],
      Date.parse(t(900)),
    );
    expect(w.totalSeconds).toBe(695);
    expect(w.stepSeconds).toBe(95);
    expect(w.hops[0]!.policyGap).toMatchObject({ seconds: 654, from: { at: t(7) } });
    expect(w.hops[0]!.controlPlaneDown).toMatchObject({ seconds: 642, from: { at: t(6) } });
    expect(formatWindow(w)[0]).toMatch(
      /^Maintenance window: 695\.0 s .*; the steps ran 95\.0 s, the rest was pauses between runs\)$/,
    );
  });

  it('prints each figure with both ends and their clocks', () => {
    const lines = formatWindow(windowReport({ hops: [manual] }, manualMarks, 0));
    expect(lines[0]).toBe(`Maintenance window: 95.0 s (${t(0).slice(0, 19)}Z to ${t(95).slice(0, 19)}Z)`);
    expect(lines).toContain('  hop 1 (1.6.0 -> 1.7.0, manual):');
    expect(lines.find((l) => l.includes('policy gap'))).toBe(
      '    policy gap                 54.0 s (CRD ratelimits.specs.smi.nginx.com deleted (deletionTimestamp) 10:00:07 [cluster] -> the last object re-created (creationTimestamp) 10:01:01 [cluster])',
    );
    expect(lines.find((l) => l.includes('no ready control plane'))).toMatch(
      /42\.0 s \(the first remove command started 10:00:06 \[tool\] -> .* 10:00:48 \[cluster\]\)$/,
    );
    expect(formatWindow(undefined)).toEqual([]);
  });
});

describe('window marks in the journal', () => {
  // A run record as journal.test.ts writes it, its plan the manual hop above.
  const plan = {
    from: '1.6.0',
    to: '1.7.0',
    namespace: 'n',
    method: 'meshctl',
    environment: 'kubernetes',
    warnings: [],
    refusals: [],
    hops: [manual],
  };
  const run = {
    type: 'run',
    schema: journalSchemaVersion,
    runId: 'r1',
    at: t(0),
    toolVersion: '0',
    install: {
      namespace: 'n',
      version: '1.6.0',
      method: 'meshctl',
      releaseStuck: false,
      environment: 'kubernetes',
      values: {},
      warnings: [],
    },
    inputs: {
      to: '1.7.0',
      strategy: 'auto',
      meshctlBinaries: {},
      chart: { kind: 'repo', ref: 'x' },
      deployFlagChanges: {},
      labelNamespaces: false,
      unlabelledInjectedNamespaces: [],
      backupDir: '/b',
      timeout: '5m',
    },
    cluster: { server: 'https://k', uid: 'u' },
    binaries: { meshctl: {}, chart: { ref: 'x' } },
    plan,
  };
  const mark = {
    type: 'window',
    runId: 'r1',
    at: t(6),
    step: 'hop1.remove',
    mark: 'command',
    time: t(6),
    source: 'tool',
  };
  const journal = (...records: object[]) => [run, ...records].map((r) => JSON.stringify(r)).join('\n') + '\n';

  it("reads the marks of steps of the plan back, in order, with the cluster's whole-second times", () => {
    const deleted = {
      ...mark,
      step: 'hop1.remove',
      mark: 'crd-deleted',
      time: '2026-12-07T10:00:07Z',
      source: 'cluster',
      what: 'trafficsplits.split.smi-spec.io',
    };
    expect(parseJournal(journal(mark, deleted), 'j').marks).toEqual([
      { step: 'hop1.remove', mark: 'command', time: t(6), source: 'tool' },
      {
        step: 'hop1.remove',
        mark: 'crd-deleted',
        time: '2026-12-07T10:00:07Z',
        source: 'cluster',
        what: 'trafficsplits.split.smi-spec.io',
      },
    ]);
  });

  it.each([
    [{ ...mark, step: 'hop9.remove' }, /not a step of the journaled plan/],
    [{ ...mark, mark: 'gone' }, /\/mark is "gone", not one of step-start/],
    [{ ...mark, time: 'yesterday' }, /\/time is "yesterday", not an RFC 3339 time/],
    [{ ...mark, source: 'guess' }, /\/source is "guess", not one of cluster, tool/],
    [{ ...mark, what: 3 }, /\/what is a number/],
  ])('refuses %j', (bad, why) => {
    expect(() => parseJournal(journal(bad), 'j')).toThrow(/^j: line 2 /);
    expect(() => parseJournal(journal(bad), 'j')).toThrow(why);
  });

  it('keeps only the fields of a mark', () => {
    expect(parseJournal(journal({ ...mark, extra: 1 }), 'j').marks).toEqual([
      { step: 'hop1.remove', mark: 'command', time: t(6), source: 'tool' },
    ]);
  });
});
