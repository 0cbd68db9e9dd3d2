import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { buildRollbackPlan, rollbackHopIndex } from '../../../src/rollback/plan.ts';
import type { BackupFacts, LiveFacts, RollbackOptions, RollbackPlan, UpgradeRun } from '../../../src/rollback/types.ts';
import type { Install, PlanOptions, StepKind } from '../../../src/engine/types.ts';
import { releases } from '../../../src/mesh/versions.ts';
import { Secret } from '../../../src/secret.ts';
import { formatCommand } from '../../../src/exec/runner.ts';
import { parseRollbackJournal, rollbackSchemaVersion } from '../../../src/rollback/journal.ts';
import { planDifference } from '../../../src/upgrade/resume.ts';

const bins = Object.fromEntries(releases.map((r) => [r.version, `/bin/nginx-meshctl-${r.version}`]));

function install(over: Partial<Install> = {}): Install {
  return {
    namespace: 'nginx-mesh',
    version: '1.6.0',
    method: 'meshctl',
    release: 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.6.0',
    environment: 'kubernetes',
    values: {},
    controlPlane: undefined,
    warnings: [],
    ...over,
  };
}

function upgradeRun(i: Install, to: string, done: string[], strategy: PlanOptions['strategy'] = 'auto'): UpgradeRun {
  const inputs: PlanOptions = {
    to,
    strategy,
    meshctlBinaries: bins,
    helm: { bin: '/bin/helm', major: 3 },
    chart: { kind: 'versioned-dir', dir: '/charts' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/run',
    timeout: '10m',
  };
  return { plan: buildPlan(i, inputs), install: i, inputs, done: new Set(done), finished: true, runId: 'up1' };
}

const crd = (name: string) => ({
  metadata: { name },
  spec: { group: name.split('.').slice(1).join('.'), versions: [{ name: 'v1alpha3', served: true, storage: true }] },
});

function backup(over: Partial<BackupFacts> = {}): BackupFacts {
  return {
    hop: 1,
    dir: '/run/hop1',
    meshVersion: '1.6.0',
    release: { name: 'nginx-service-mesh', revision: 1, chartVersion: '0.6.0', appVersion: 'v1.6.0' },
    values: { mtls: { mode: 'strict' }, clientMaxBodySize: '8m' },
    crds: [crd('trafficsplits.split.smi-spec.io'), crd('httproutegroups.specs.smi-spec.io')],
    injected: [{ namespace: 'shop', kind: 'Deployment', name: 'web' }],
    ...over,
  };
}

const none = { count: 0, sample: [] };
function live(over: Partial<LiveFacts> = {}): LiveFacts {
  return {
    version: '1.7.0',
    release: 'nginx-service-mesh',
    releaseStatus: 'deployed',
    valuesMatchBackup: false,
    restorableRevisions: [1],
    crdChanges: [],
    incompatible: [],
    changed: none,
    deleted: none,
    created: none,
    meshConfig: { carried: {}, noSetting: [] },
    ...over,
  };
}

function options(over: Partial<RollbackOptions> = {}): RollbackOptions {
  return {
    from: '/run',
    allHops: false,
    force: false,
    meshctlBinaries: bins,
    helm: { bin: '/bin/helm', major: 3 },
    chart: { kind: 'versioned-dir', dir: '/charts' },
    timeout: '10m',
    context: 'ctx',
    ...over,
  };
}

const kinds = (p: RollbackPlan) => p.hops[0]?.steps.map((s) => s.kind) ?? [];
const commands = (p: RollbackPlan, kind: StepKind) =>
  p.hops[0]!.steps.find((s) => s.kind === kind)!.commands.map(formatCommand);
const tail: StepKind[] = ['restore-crds', 'restore-resources', 'restart', 'verify-rollback'];

const meshctlRun = upgradeRun(install(), '1.7.0', ['hop1.backup', 'hop1.upgrade', 'hop1.restart', 'hop1.verify']);
const helmRun = upgradeRun(install({ method: 'helm', release: 'nsm' }), '1.7.0', [
  'hop1.backup',
  'hop1.apply-crds',
  'hop1.upgrade',
]);
const helmBackup = backup({ release: { name: 'nsm', revision: 1, chartVersion: '0.6.0', appVersion: 'v1.6.0' } });

describe('buildRollbackPlan: the way back, by install method and what the cluster holds', () => {
  const table: {
    name: string;
    run: UpgradeRun;
    backup: BackupFacts;
    live: LiveFacts;
    opts?: Partial<RollbackOptions>;
    path: RollbackPlan['rollback']['path'];
    kinds: StepKind[];
  }[] = [
    {
      name: 'meshctl, the new version running',
      run: meshctlRun,
      backup: backup(),
      live: live(),
      path: 'meshctl-redeploy',
      kinds: ['snapshot', 'remove', 'deploy', ...tail],
    },
    {
      name: 'meshctl, the mesh already removed (a failed manual hop)',
      run: meshctlRun,
      backup: backup(),
      live: live({ version: undefined, release: undefined, releaseStatus: undefined }),
      path: 'meshctl-redeploy',
      kinds: ['snapshot', 'deploy', ...tail],
    },
    {
      name: 'meshctl on OpenShift',
      run: upgradeRun(install({ environment: 'openshift' }), '1.7.0', ['hop1.backup', 'hop1.remove']),
      backup: backup(),
      live: live(),
      path: 'meshctl-redeploy',
      kinds: ['snapshot', 'remove', 'restart-unmeshed', 'wait-sentinel', 'deploy', ...tail],
    },
    {
      name: 'meshctl, the old version back with the backed-up values (an atomic upgrade rolled itself back)',
      run: meshctlRun,
      backup: backup(),
      live: live({ version: '1.6.0', valuesMatchBackup: true }),
      path: 'already-back',
      kinds: ['snapshot', ...tail],
    },
    {
      name: 'meshctl, the old version back with other values',
      run: meshctlRun,
      backup: backup(),
      live: live({ version: '1.6.0' }),
      path: 'meshctl-redeploy',
      kinds: ['snapshot', 'remove', 'deploy', ...tail],
    },
    {
      name: 'helm, revision recorded and no CRD changed',
      run: helmRun,
      backup: helmBackup,
      live: live({ release: 'nsm' }),
      path: 'helm-rollback',
      kinds: ['snapshot', 'helm-rollback', ...tail],
    },
    {
      name: 'helm, a CRD changed',
      run: helmRun,
      backup: helmBackup,
      live: live({ release: 'nsm', crdChanges: ['CRD meshconfigs.nsm.nginx.com was added since the backup'] }),
      path: 'helm-reinstall',
      kinds: ['snapshot', 'remove', 'delete-crds', 'deploy', ...tail],
    },
    {
      name: 'helm, the backed-up revision no longer in the history (or its number reused by a reinstall)',
      run: helmRun,
      backup: helmBackup,
      live: live({ release: 'nsm', restorableRevisions: [] }),
      path: 'helm-reinstall',
      kinds: ['snapshot', 'remove', 'delete-crds', 'deploy', ...tail],
    },
    {
      name: 'helm, MeshConfig changes to carry',
      run: helmRun,
      backup: helmBackup,
      live: live({ release: 'nsm', meshConfig: { carried: { accessControlMode: 'deny' }, noSetting: [] } }),
      path: 'helm-reinstall',
      kinds: ['snapshot', 'remove', 'delete-crds', 'deploy', ...tail],
    },
    {
      name: 'helm, no release installed',
      run: helmRun,
      backup: helmBackup,
      live: live({ version: undefined, release: undefined, releaseStatus: undefined, restorableRevisions: [] }),
      path: 'helm-reinstall',
      kinds: ['snapshot', 'delete-crds', 'deploy', ...tail],
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const p = buildRollbackPlan({ run: t.run, backup: t.backup, live: t.live }, options(t.opts));
      expect(p.refusals).toEqual([]);
      expect(p.rollback.path).toBe(t.path);
      expect(kinds(p)).toEqual(t.kinds);
      expect(p.to).toBe('1.6.0');
      expect(p.hops[0]!.steps.map((s) => s.id)).toEqual(t.kinds.map((k) => `hop1.${k}`));
      // Pure: the same facts give the same plan.
      expect(JSON.stringify(buildRollbackPlan({ run: t.run, backup: t.backup, live: t.live }, options(t.opts)))).toBe(
        JSON.stringify(p),
      );
    });
  }

  it("meshctl: removes with the running version's binary, deploys with the old one and the backed-up settings", () => {
    const p = buildRollbackPlan({ run: meshctlRun, backup: backup(), live: live() }, options());
    expect(commands(p, 'remove')).toEqual([
      '/bin/nginx-meshctl-1.7.0 -k /run/rollback/kubeconfig.private -n nginx-mesh -t 10m remove --yes',
    ]);
    expect(commands(p, 'deploy')).toEqual([
      '/bin/nginx-meshctl-1.6.0 -k /run/rollback/kubeconfig.private -n nginx-mesh -t 10m deploy --client-max-body-size 8m --mtls-mode strict',
    ]);
  });

  it('helm: rolls back to the revision recorded in the backup; a reinstall installs the old chart with the old values (and what is carried)', () => {
    expect(
      commands(
        buildRollbackPlan({ run: helmRun, backup: helmBackup, live: live({ release: 'nsm' }) }, options()),
        'helm-rollback',
      ),
    ).toEqual([
      '/bin/helm rollback nsm 1 -n nginx-mesh --wait --timeout 10m --kubeconfig /run/rollback/kubeconfig.private --kube-context ctx',
    ]);
    const p = buildRollbackPlan(
      {
        run: helmRun,
        backup: helmBackup,
        live: live({ release: 'nsm', meshConfig: { carried: { accessControlMode: 'deny' }, noSetting: [] } }),
      },
      options({ helm: { bin: '/bin/helm4', major: 4 } }),
    );
    expect(commands(p, 'deploy')).toEqual([
      '/bin/helm4 install nsm /charts/1.6.0 -n nginx-mesh --create-namespace -f /run/rollback/values-1.6.0.yaml --wait=watcher --timeout 10m --kubeconfig /run/rollback/kubeconfig.private --kube-context ctx',
    ]);
    const deploy = p.hops[0]!.steps.find((s) => s.kind === 'deploy')!;
    expect(deploy.kind === 'deploy' && deploy.params.files[0]!.content).toEqual({
      values: { mtls: { mode: 'strict' }, clientMaxBodySize: '8m', accessControlMode: 'deny' },
    });
    const verify = p.hops[0]!.steps.find((s) => s.kind === 'verify-rollback')!;
    expect(verify.kind === 'verify-rollback' && verify.params.values).toEqual({
      mtls: { mode: 'strict' },
      clientMaxBodySize: '8m',
      accessControlMode: 'deny',
    });
    expect(p.warnings.map((w) => w.id)).toContain('meshconfig-carried');
  });

  it("restores only the kinds the old CRDs define, from the hop's backup and the snapshot", () => {
    const p = buildRollbackPlan({ run: meshctlRun, backup: backup(), live: live() }, options());
    const r = p.hops[0]!.steps.find((s) => s.kind === 'restore-resources')!;
    expect(r.kind === 'restore-resources' && r.params).toEqual({
      from: '/run/hop1',
      snapshot: '/run/rollback/snapshot',
      kinds: ['HTTPRouteGroup', 'TrafficSplit'],
      targetVersion: '1.6.0',
    });
  });

  it('a credential in the values is a Secret in the plan: never in its JSON', () => {
    const p = buildRollbackPlan(
      {
        run: meshctlRun,
        backup: backup({
          values: { registry: { server: 'r.example', password: new Secret('hunter22', 'registry.password') } },
        }),
        live: live(),
      },
      options(),
    );
    expect(commands(p, 'deploy')[0]).toContain('--registry-password <redacted>');
    expect(JSON.stringify(p)).not.toContain('hunter22');
    // nginx-meshctl deploy takes it only on its command line: the plan says so.
    expect(p.warnings.find((w) => w.id === 'credential-on-command-line')?.message).toMatch(
      /registry password only on its command line .*read it in `ps`/,
    );
    expect(
      buildRollbackPlan({ run: meshctlRun, backup: backup(), live: live() }, options()).warnings.some(
        (w) => w.id === 'credential-on-command-line',
      ),
    ).toBe(false);
  });
});

describe('losses and refusals', () => {
  const base = { run: meshctlRun, backup: backup(), live: live() };
  it('what cannot come back is a loss; --force passes it', () => {
    const facts = {
      ...base,
      live: live({
        incompatible: [{ object: 'MeshConfig shop/team', why: 'its kind has no CRD in the old version' }],
        meshConfig: { carried: {}, noSetting: ['meshConfigClassName="x"'] },
      }),
    };
    const p = buildRollbackPlan(facts, options());
    expect(p.rollback.losses.map((l) => l.id)).toEqual(['not-held', 'meshconfig-no-setting']);
    expect(p.rollback.losses[0]!.message).toMatch(
      /MeshConfig shop\/team was created after the upgrade and NSM 1\.6\.0's CRDs cannot hold it/,
    );
    expect(p.rollback.forced).toBe(false);
    expect(buildRollbackPlan(facts, options({ force: true })).rollback.forced).toBe(true);
  });

  it('a backup that fails verification is a loss --force never passes', () => {
    const p = buildRollbackPlan({ ...base, backup: backup({ problem: 'hash mismatch' }) }, options({ force: true }));
    expect(p.rollback.losses.map((l) => [l.id, l.forceable])).toEqual([['backup-unverified', false]]);
    expect(p.rollback.forced).toBe(false);
  });

  it('a missing binary or helm is bad input (a refusal), naming the flag', () => {
    const p = buildRollbackPlan(base, options({ meshctlBinaries: { '1.7.0': '/bin/m' } }));
    expect(p.refusals.map((r) => r.id)).toEqual(['meshctl-missing']);
    expect(p.refusals[0]!.fix).toMatch(/--meshctl /);
    expect(
      buildRollbackPlan({ run: helmRun, backup: helmBackup, live: live() }, options({ helm: undefined })).refusals.map(
        (r) => r.id,
      ),
    ).toEqual(['helm-missing']);
  });

  it('a run that backed up no hop has nothing to roll back', () => {
    const p = buildRollbackPlan(
      { run: upgradeRun(install(), '1.7.0', []), backup: undefined, live: live() },
      options(),
    );
    expect(p.refusals.map((r) => r.id)).toEqual(['nothing-to-roll-back']);
    expect(p.hops).toEqual([]);
  });

  it('objects changed, deleted and created since the backup are named in warnings', () => {
    const p = buildRollbackPlan(
      {
        ...base,
        live: live({
          changed: { count: 1, sample: ['TrafficSplit shop/a'] },
          created: { count: 3, sample: ['TrafficSplit shop/b'] },
        }),
      },
      options(),
    );
    expect(p.warnings.map((w) => w.message)).toEqual([
      '1 object(s) changed since the backup: TrafficSplit shop/a; they go back to their backed-up state',
      '3 object(s) created since the backup: TrafficSplit shop/b, ... (2 more); they are kept (restored from the snapshot when the CRDs go)',
    ]);
  });
});

describe('rollbackHopIndex', () => {
  const two = upgradeRun(install(), '2.0.0', [
    'hop1.backup',
    'hop1.upgrade',
    'hop1.verify',
    'hop2.backup',
    'hop2.upgrade',
  ]);
  it('the last hop whose backup was taken; --all-hops: the first', () => {
    expect(two.plan.hops.length).toBe(2);
    expect(rollbackHopIndex(two, false)).toBe(2);
    expect(rollbackHopIndex(two, true)).toBe(1);
    expect(rollbackHopIndex({ ...two, done: new Set(['hop1.backup']) }, false)).toBe(1);
    expect(rollbackHopIndex({ ...two, done: new Set() }, false)).toBeUndefined();
  });
  it('hop 2 goes back to 1.7.0, --all-hops to 1.6.0', () => {
    expect(
      buildRollbackPlan(
        { run: two, backup: backup({ hop: 2, dir: '/run/hop2' }), live: live({ version: '2.0.0' }) },
        options(),
      ).to,
    ).toBe('1.7.0');
    expect(
      buildRollbackPlan({ run: two, backup: backup(), live: live({ version: '2.0.0' }) }, options({ allHops: true }))
        .to,
    ).toBe('1.6.0');
  });
});

describe('buildRollbackPlan: the opt-in labels the upgrade added go back too (issue 26)', () => {
  const labelledRun = (done: string[]): UpgradeRun => {
    const i = install({ version: '1.7.0' });
    const inputs: PlanOptions = {
      to: '2.0.0',
      strategy: 'auto',
      meshctlBinaries: bins,
      helm: undefined,
      chart: { kind: 'versioned-dir', dir: '/charts' },
      deployFlagChanges: {},
      labelNamespaces: true,
      unlabelledInjectedNamespaces: ['shop', 'pay'],
      backupDir: '/run',
      timeout: '10m',
    };
    return { plan: buildPlan(i, inputs), install: i, inputs, done: new Set(done), finished: true, runId: 'up2' };
  };
  const b = backup({ meshVersion: '1.7.0' });

  it('removes injector.nsm.nginx.com/auto-inject from the namespaces the upgrade labelled, before the restart', () => {
    const p = buildRollbackPlan(
      {
        run: labelledRun(['hop1.backup', 'hop1.label-namespaces', 'hop1.upgrade']),
        backup: b,
        live: live({ version: '2.0.0' }),
      },
      options(),
    );
    const s = p.hops[0]!.steps.find((x) => x.kind === 'label-namespaces');
    expect(s?.params).toEqual({ namespaces: ['shop', 'pay'], label: { 'injector.nsm.nginx.com/auto-inject': null } });
    expect(kinds(p).slice(-4)).toEqual(['restore-resources', 'label-namespaces', 'restart', 'verify-rollback']);
  });

  it('removes nothing when the upgrade never labelled (its step did not run)', () => {
    const p = buildRollbackPlan(
      { run: labelledRun(['hop1.backup']), backup: b, live: live({ version: '2.0.0' }) },
      options(),
    );
    expect(kinds(p)).not.toContain('label-namespaces');
  });
});

describe('a rollback journal an earlier version wrote, its restart step named "reroll"', () => {
  const plan = buildRollbackPlan({ run: meshctlRun, backup: backup(), live: live() }, options());
  const journal = (restartAs: string) => {
    const asWritten = JSON.parse(JSON.stringify(plan)) as RollbackPlan;
    for (const s of asWritten.hops[0]!.steps)
      if (s.kind === 'restart')
        Object.assign(s, {
          id: `hop1.${restartAs}`,
          kind: restartAs,
          title: 'Re-roll injected workloads onto NSM 1.6.0 sidecars',
        });
    const start = {
      type: 'rollback',
      schema: rollbackSchemaVersion,
      runId: 'r1',
      at: 't',
      toolVersion: '0.1.0',
      upgradeRunId: 'up1',
      options: { ...options(), meshctlBinaries: {} },
      live: live(),
      cluster: { server: 'https://k', uid: 'u' },
      plan: asWritten,
      binaries: { meshctl: {}, chart: { ref: '/charts' } },
    };
    const done = ['snapshot', 'remove', 'deploy', 'restore-crds', 'restore-resources', restartAs].map((k) => ({
      type: 'step',
      runId: 'r1',
      at: 't',
      step: `hop1.${k}`,
      status: 'done',
      data: k === restartAs ? { restarted: 1, converged: true } : {},
    }));
    return [start, ...done].map((r) => JSON.stringify(r)).join('\n');
  };

  it('is read as this version names it: its steps and step records as "restart", so a resume finds the plan built again the same', () => {
    const j = parseRollbackJournal(journal('reroll'), 'journal.ndjson');
    expect(j.plan.hops[0]!.steps.map((s) => s.id)).toEqual(plan.hops[0]!.steps.map((s) => s.id));
    expect(j.plan.hops[0]!.steps.find((s) => s.id === 'hop1.restart')?.kind).toBe('restart');
    expect([...j.done]).toContain('hop1.restart');
    expect(j.data.get('hop1.restart')).toEqual({ restarted: 1, converged: true });
    expect(planDifference(j.plan, plan, new Map())).toBeUndefined();
  });

  it('a journal this version wrote reads the same', () => {
    const j = parseRollbackJournal(journal('restart'), 'journal.ndjson');
    expect([...j.done]).toContain('hop1.restart');
    expect(planDifference(j.plan, plan, new Map())).toBeUndefined();
  });
});
