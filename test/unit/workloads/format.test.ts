import { describe, expect, it } from 'vitest';
import { formatRestartPlanText, formatRestartText, formatSkewText, table } from '../../../src/workloads/format.ts';
import type { RestartRecord } from '../../../src/workloads/restart-record.ts';
import type { SkewReport } from '../../../src/workloads/skew.ts';
import type { RestartResult } from '../../../src/workloads/restart.ts';

describe('table', () => {
  it('aligns columns by their widest cell and leaves the last column unpadded', () => {
    expect(
      table([
        ['A', 'BB', 'C'],
        ['long', 'x', 'y'],
      ]),
    ).toBe('A     BB  C\nlong  x   y\n');
  });
});

const ref = (kind: string, name: string) => ({ namespace: 'shop', kind, name });
const result: RestartResult = {
  targetVersion: '1.7.0',
  restarted: [{ ...ref('Deployment', 'web'), message: 'deployment "web" successfully rolled out', seconds: 2.5 }],
  evicted: [],
  skipped: [
    {
      ...ref('Deployment', 'held'),
      reason: 'paused: run "kubectl rollout resume deployment/held -n shop", then restart again',
    },
  ],
  timedOut: [
    {
      ...ref('StatefulSet', 'db'),
      message: 'statefulset shop/db did not finish rolling out within 30s (--timeout): waiting for 1 pods to be ready',
      seconds: 30,
    },
  ],
  notStarted: [],
  interrupted: false,
  stoppedAtGate: false,
  maxFailures: 1,
  failed: [],
  upToDate: 4,
  continued: 0,
  concurrency: 8,
  final: {
    converged: false,
    byVersion: { '1.6.0': 2, '1.7.0': 5 },
    behind: [
      { ...ref('Deployment', 'held'), versions: { '1.6.0': 1 }, behind: true },
      { ...ref('StatefulSet', 'db'), versions: { '1.6.0': 1 }, behind: true },
    ],
  },
};

describe('formatRestartText', () => {
  it('lists each workload with its result and the reason or message, then the totals and convergence', () => {
    const text = formatRestartText(result);
    expect(text).toMatch(/shop\s+deployment\/web\s+restarted\s+2\.5s/);
    expect(text).toMatch(
      /shop\s+statefulset\/db\s+TIMED OUT\s+statefulset shop\/db did not finish rolling out within 30s/,
    );
    expect(text).toMatch(/shop\s+deployment\/held\s+skipped\s+paused: run "kubectl rollout resume/);
    expect(text).toContain(
      '1 restarted (slow start from 1, at most 8 at once), 1 skipped, 1 timed out, 0 failed, 4 already on 1.7.0.',
    );
    expect(text).toContain(
      'Not converged: 2 workloads still behind 1.7.0 (1.6.0=2 1.7.0=5): shop/deployment/held, shop/statefulset/db',
    );
  });

  it('says when there was nothing to do and the mesh converged', () => {
    const text = formatRestartText({
      ...result,
      restarted: [],
      skipped: [],
      timedOut: [],
      final: { converged: true, byVersion: { '1.7.0': 5 }, behind: [] },
    });
    expect(text).toContain('Nothing to restart.');
    expect(text).toContain('Converged: every sidecar runs 1.7.0 (1.7.0=5).');
  });
});

describe('formatRestartPlanText', () => {
  it('numbers the start order and marks the dry run', () => {
    const plan = {
      targets: [
        { ...ref('Deployment', 'a'), action: 'restart' as const, pods: 3 },
        { ...ref('Pod', 'p'), action: 'evict-pod' as const, pods: 1 },
      ],
      skipped: [],
      upToDate: 0,
    };
    const text = formatRestartPlanText(plan, '1.7.0', 4);
    expect(text).toMatch(/1\s+shop\s+deployment\/a\s+restart \(3 pods\)/);
    expect(text).toMatch(/2\s+shop\s+pod\/p\s+evict-pod \(1 pod\)/);
    expect(text).toContain(
      '(dry run) would restart 2 workload(s) to 1.7.0, the first alone, then widening up to 4 at once as workloads finish healthy',
    );
  });
});

describe('formatRestartText at the failure gate', () => {
  it("names each failure with the cluster's reason, every workload not started, and the command that continues", () => {
    const text = formatRestartText(
      {
        ...result,
        restarted: [],
        timedOut: [],
        skipped: [],
        stoppedAtGate: true,
        failed: [
          {
            ...ref('Deployment', 'app-01'),
            message: 'deployment shop/app-01: deployment "app-01" exceeded its progress deadline',
            reason: 'ReplicaSet app-01-5d8 FailedCreate: pods "app-01-5d8-x" is forbidden: exceeded quota: pods',
            seconds: 11,
          },
        ],
        notStarted: [
          {
            ...ref('Deployment', 'app-02'),
            message: 'not started: the restart stopped after 1 failure(s) (--max-failures 1)',
            seconds: 0,
          },
        ],
      },
      'kubectl nsm-upgrade restart --restart all',
    );
    expect(text).toMatch(
      /shop\s+deployment\/app-01\s+FAILED\s+.*exceeded its progress deadline; reason: ReplicaSet app-01-5d8 FailedCreate: .*exceeded quota/,
    );
    expect(text).toMatch(/shop\s+deployment\/app-02\s+NOT STARTED\s+not started: the restart stopped after 1 failure/);
    expect(text).toContain(
      'Stopped at the failure gate: 1 workload(s) failed (--max-failures 1), so 1 were not started.',
    );
    expect(text).toContain('restart --undo NAMESPACE/KIND/NAME');
    expect(text).toContain('continue with:\n  kubectl nsm-upgrade restart --restart all\n');
  });
});

describe("formatSkewText with the last restart's record (status)", () => {
  const report: SkewReport = {
    meshNamespace: 'nginx-mesh',
    targetVersion: '1.7.0',
    controlPlane: { version: '1.7.0', components: [] },
    byVersion: { '1.7.0': 1, '1.6.0': 1 },
    pods: 2,
    optInMissing: [],
    converged: false,
    workloads: [
      { ...ref('Deployment', 'web'), versions: { '1.7.0': 1 }, behind: false },
      { ...ref('Deployment', 'db'), versions: { '1.6.0': 1 }, behind: true },
    ],
  };
  const record: RestartRecord = {
    runId: 'r1',
    operation: 'restart',
    targetVersion: '1.7.0',
    mode: 'behind',
    startedAt: 't0',
    updatedAt: 't1',
    state: 'stopped-at-gate',
    maxFailures: 1,
    workloads: {
      'shop/Deployment/web': { state: 'rolled' },
      'shop/Deployment/db': { state: 'failed', reason: 'exceeded quota' },
    },
  };
  it('names the last restart above the table and, per workload, what it did in the LAST RESTART column', () => {
    const text = formatSkewText(report, record);
    expect(text).toContain(
      'Last restart: restart run r1 to 1.7.0, stopped at the failure gate (--max-failures 1), at t1 (1 restarted, 1 FAILED); continue it with "kubectl nsm-upgrade restart"',
    );
    expect(text).toMatch(/NAMESPACE\s+WORKLOAD\s+SIDECARS\s+STATUS\s+LAST RESTART\n/);
    expect(text).toMatch(/shop\s+deployment\/web\s+1\.7\.0=1\s+ok\s+restarted\n/);
    expect(text).toMatch(/shop\s+deployment\/db\s+1\.6\.0=1\s+behind\s+FAILED: exceeded quota\n/);
    expect(text).toContain('Run "kubectl nsm-upgrade restart" to restart them.');
  });
  it('has no LAST RESTART column without a record', () => {
    expect(formatSkewText(report)).not.toMatch(/LAST RESTART|Last restart/);
  });
});
