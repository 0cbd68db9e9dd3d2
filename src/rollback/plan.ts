/**
 * The rollback plan: RollbackFacts + RollbackOptions -> RollbackPlan. PURE: no I/O; the same facts
 * always give the same plan, so `rollback --resume` builds it again from the journaled facts and
 * refuses when it differs.
 *
 * One hop, backwards, from what runs now to the version before hop N (the last hop the run
 * started, or hop 1 with --all-hops), with the install method it had:
 * - snapshot: back up what is there now (objects created since the upgrade come back from it);
 * - control plane (nothing when it already runs the old version with the backed-up values):
 *   - nginx-meshctl: remove with the running version's binary, [OpenShift: restart out of the mesh,
 *     wait for the CSI sentinel], deploy with the old binary and the backed-up settings;
 *   - Helm: `helm rollback` to the revision recorded in the backup when Helm still has it, no CRD
 *     changed and no MeshConfig change is carried; else uninstall, delete the CRDs, [OpenShift],
 *     install the old chart with the backed-up values;
 * - restore-crds, restore-resources, [unlabel the namespaces the upgrade labelled], restart, verify-rollback.
 * Losses (exit 3 unless --force; never past a backup that fails verification) and refusals (bad
 * input, exit 2) are data in the plan.
 */
import type { ChartRef } from '../controlplane/helm.ts';
import { catalog, resourceName } from '../mesh/catalog.ts';
import { cloneValues } from '../secret.ts';
import { setValueAt } from '../values.ts';
import { childKubeconfigPath, pinnedChildren } from '../engine/child-kubeconfig.ts';
import type { Hop, PlanWarning, Refusal, Step, StepOf } from '../engine/types.ts';
import { snapshotStep } from '../engine/phases/backup.ts';
import {
  chartForHop,
  commandTargets,
  helmInstallStep,
  helmRollbackStep,
  helmUninstallStep,
  isRefusal,
  meshctlDeployStep,
  meshctlRemoveStep,
} from '../engine/phases/control-plane.ts';
import { deleteCrdsStep, restoreCrdsStep } from '../engine/phases/crds.ts';
import { unlabelNamespacesStep } from '../engine/phases/namespaces.ts';
import { openshiftSentinelSteps } from '../engine/phases/openshift.ts';
import { restoreResourcesStep } from '../engine/phases/restore.ts';
import { restartStep } from '../engine/phases/restart.ts';
import { verifyRollbackStep } from '../engine/phases/verify.ts';
import {
  rollbackDir,
  type BackupFacts,
  type LiveFacts,
  type ObjectList,
  type RollbackFacts,
  type RollbackOptions,
  type RollbackPath,
  type RollbackPlan,
  type UpgradeRun,
} from './types.ts';

/** The hop whose backup the rollback goes back to: hop 1 with --all-hops, else the last hop whose backup is done. */
export function rollbackHopIndex(run: Pick<UpgradeRun, 'plan' | 'done'>, allHops: boolean): number | undefined {
  const backedUp = run.plan.hops.filter((h) => run.done.has(`hop${h.index}.backup`)).map((h) => h.index);
  if (backedUp.length === 0) return undefined;
  return allHops ? Math.min(...backedUp) : Math.max(...backedUp);
}

const listed = (what: string, l: ObjectList) =>
  `${l.count} object(s) ${what}: ${l.sample.join(', ')}${l.count > l.sample.length ? `, ... (${l.count - l.sample.length} more)` : ''}`;

type Loss = RollbackPlan['rollback']['losses'][number];

/** What going back would lose: each a refusal (exit 3) unless --force passes it; a damaged backup never passes. */
function rollbackLosses(backup: BackupFacts, live: LiveFacts, to: string, namespace: string): Loss[] {
  const losses: Loss[] = [];
  if (backup.problem)
    losses.push({
      id: 'backup-unverified',
      forceable: false,
      message: `the backup ${backup.dir} fails verification: ${backup.problem}`,
      fix: 'nothing can be rolled back from a backup that is damaged or was changed; --force does not change that. Restore by hand from a copy you trust',
    });
  if (!backup.values)
    losses.push({
      id: 'no-settings',
      forceable: true,
      message: `the backup ${backup.dir} holds no Helm release values: the old mesh's settings are unknown, a redeploy would use the defaults`,
      fix: 'pass --force to redeploy with the chart defaults',
    });
  for (const i of live.incompatible)
    losses.push({
      id: 'not-held',
      forceable: true,
      message: `${i.object} was created after the upgrade and NSM ${to}'s CRDs cannot hold it: ${i.why}`,
      fix: 'back it up and delete it (kubectl get -o yaml, kubectl delete), then run the rollback again; or pass --force to lose it',
    });
  for (const s of live.meshConfig.noSetting)
    losses.push({
      id: 'meshconfig-no-setting',
      forceable: true,
      message: `MeshConfig nginx-mesh-config was changed after the upgrade (${s}) and NSM ${to} has no setting for it`,
      fix: `change it back (kubectl edit meshconfig nginx-mesh-config -n ${namespace}), then run the rollback again; or pass --force to lose it`,
    });
  return losses;
}

/** What the rollback does to objects changed, deleted or created since the backup, and MeshConfig changes it carries back. */
function rollbackWarnings(n: number, live: LiveFacts, to: string): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  if (live.changed.count)
    warnings.push({
      id: 'changed-since',
      hop: n,
      message: `${listed('changed since the backup', live.changed)}; they go back to their backed-up state`,
      items: [],
    });
  if (live.deleted.count)
    warnings.push({
      id: 'deleted-since',
      hop: n,
      message: `${listed('deleted since the backup', live.deleted)}; they are re-created`,
      items: [],
    });
  if (live.created.count)
    warnings.push({
      id: 'created-since',
      hop: n,
      message: `${listed('created since the backup', live.created)}; they are kept (restored from the snapshot when the CRDs go)`,
      items: [],
    });
  const carried = Object.entries(live.meshConfig.carried);
  if (carried.length)
    warnings.push({
      id: 'meshconfig-carried',
      hop: n,
      message: `MeshConfig nginx-mesh-config was changed after the upgrade; NSM ${to} gets these settings too`,
      items: carried.map(([p, v]) => `${p}=${JSON.stringify(v)}`),
    });
  return warnings;
}

interface ControlPlaneBack {
  path: RollbackPath;
  strategy: Hop['strategy'];
  reason: string;
  steps: Step[];
  notes: string[];
  credentialNote?: string | undefined;
}

/**
 * The control plane back on `to` with the old settings: nothing when it already is; nginx-meshctl:
 * remove with the running version's binary, [OpenShift sentinel], deploy with the old binary; Helm:
 * helm rollback when Helm still has the backed-up revision, no CRD changed and no MeshConfig change
 * is carried, else uninstall, delete the CRDs, [OpenShift sentinel], install the old chart.
 */
function controlPlaneBack(
  c: {
    n: number;
    run: UpgradeRun;
    backup: BackupFacts;
    live: LiveFacts;
    opts: RollbackOptions;
    to: string;
    values: Record<string, unknown>;
    release: string;
    carried: boolean;
  },
  refusals: Refusal[],
): ControlPlaneBack {
  const { n, run, backup, live, opts, to, values, release } = c;
  const up = run.plan;
  const ns = up.namespace;
  const dir = rollbackDir(opts.from);
  const targets = commandTargets(opts, { namespace: ns, runDir: dir, who: 'the rollback' }, refusals);
  const sentinel = up.environment === 'openshift' ? openshiftSentinelSteps(n, ns) : [];
  if (live.version === to && live.releaseStatus === 'deployed' && live.valuesMatchBackup && !c.carried) {
    return {
      path: 'already-back',
      strategy: 'in-place',
      reason: `the control plane already runs NSM ${to} with the backed-up settings`,
      steps: [],
      notes: [],
    };
  }
  if (up.method === 'meshctl') {
    const remove = live.version
      ? [meshctlRemoveStep(n, targets.meshctl(live.version, '--meshctl-current'), { version: live.version, release })]
      : [];
    const deploy = meshctlDeployStep(n, targets.meshctl(to, '--meshctl'), {
      to,
      values,
      changes: {},
      fileDir: dir,
      whose: 'backed-up',
      alternatives: false,
    });
    return {
      path: 'meshctl-redeploy',
      strategy: 'manual',
      steps: [...remove, ...sentinel, deploy.step],
      notes: deploy.notes,
      credentialNote: deploy.credentialNote,
      reason: `nginx-meshctl has no downgrade: remove${live.version ? ` with nginx-meshctl ${live.version}` : ''}, deploy with nginx-meshctl ${to} and the backed-up settings`,
    };
  }
  const helm = targets.helm();
  const rev = backup.release?.revision;
  if (
    live.version !== undefined &&
    rev !== undefined &&
    live.restorableRevisions.includes(rev) &&
    live.crdChanges.length === 0 &&
    !c.carried
  ) {
    return {
      path: 'helm-rollback',
      strategy: 'in-place',
      reason: `Helm still records revision ${rev} and no CRD changed`,
      steps: [helmRollbackStep(n, helm, { release, revision: rev, to })],
      notes: [],
    };
  }
  const why =
    live.version === undefined
      ? 'no release is installed'
      : rev === undefined || !live.restorableRevisions.includes(rev)
        ? `Helm no longer records revision ${rev ?? '(none in the backup)'} as it was backed up`
        : live.crdChanges.length
          ? `the CRDs changed (${live.crdChanges[0]}${live.crdChanges.length > 1 ? ', ...' : ''}), which helm rollback does not undo`
          : 'MeshConfig changes are carried into the values';
  let chart: ChartRef = { ref: '' };
  const ch = chartForHop(opts.chart, to, 1);
  if (isRefusal(ch)) refusals.push({ ...ch, fix: `${ch.fix} (the rollback installs NSM ${to})` });
  else chart = ch;
  const uninstall = live.version !== undefined ? [helmUninstallStep(n, helm, release)] : [];
  return {
    path: 'helm-reinstall',
    strategy: 'manual',
    reason: `${why}: uninstall, then install the NSM ${to} chart with the backed-up values`,
    notes: [],
    steps: [
      ...uninstall,
      deleteCrdsStep(n),
      ...sentinel,
      helmInstallStep(n, helm, {
        to,
        release,
        chart,
        values,
        valuesFile: `${dir}/values-${to}.yaml`,
        expect: {},
        whose: 'backed-up',
      }),
    ],
  };
}

/** The namespaces the upgrade's hops from `n` on labelled for 2.0's opt-in (--label-namespaces): the rollback unlabels them. */
function labelledByUpgrade(run: UpgradeRun, n: number): string[] {
  const labelled = run.plan.hops
    .filter((h) => h.index >= n)
    .flatMap((h) => h.steps)
    .filter((s): s is StepOf<'label-namespaces'> => s.kind === 'label-namespaces' && run.done.has(s.id));
  return [...new Set(labelled.flatMap((s) => s.params.namespaces))];
}

/** Builds the rollback plan. Never throws for bad input: problems become refusals or losses. */
export function buildRollbackPlan(facts: RollbackFacts, opts: RollbackOptions): RollbackPlan {
  const { run, backup, live } = facts;
  const up = run.plan;
  const dir = rollbackDir(opts.from);
  const refusals: Refusal[] = [];
  const n = backup?.hop ?? 0;
  const to = up.hops.find((h) => h.index === n)?.from ?? up.from;
  const from = live.version ?? 'none';
  const base = {
    from,
    to,
    namespace: up.namespace,
    method: up.method,
    environment: up.environment,
    release: up.release,
  };
  const meta = (path: RollbackPath, losses: Loss[], forced: boolean): RollbackPlan['rollback'] => ({
    source: opts.from,
    upgradeRunId: run.runId,
    hop: n,
    allHops: opts.allHops,
    path,
    losses,
    forced,
  });
  if (!backup || !up.hops.some((h) => h.index === n)) {
    refusals.push({
      id: 'nothing-to-roll-back',
      message: `the run in ${opts.from} has no hop whose backup was taken: it changed nothing to roll back`,
      fix: 'check the cluster with `kubectl nsm-upgrade status`',
    });
    return { ...base, hops: [], warnings: [], refusals, rollback: meta('already-back', [], false) };
  }
  const losses = rollbackLosses(backup, live, to, up.namespace);
  const forced = opts.force && losses.length > 0 && losses.every((l) => l.forceable);
  const warnings = rollbackWarnings(n, live, to);

  // The old mesh's settings: the backup's values, with what was changed in MeshConfig since.
  const carried = Object.entries(live.meshConfig.carried);
  const values = cloneValues(backup.values ?? {}) as Record<string, unknown>;
  for (const [p, v] of carried) setValueAt(values, p, v);
  const release = up.release ?? backup.release?.name ?? 'nsm';
  const cp = controlPlaneBack(
    { n, run, backup, live, opts, to, values, release, carried: carried.length > 0 },
    refusals,
  );
  for (const note of cp.notes) warnings.push({ id: 'carry-over', hop: n, message: note, items: [] });
  if (cp.credentialNote)
    warnings.push({ id: 'credential-on-command-line', hop: n, message: cp.credentialNote, items: [] });

  const kinds = catalog.filter((k) => backup.crds.some((c) => c.metadata?.name === resourceName(k))).map((k) => k.kind);
  const unlabel = labelledByUpgrade(run, n);
  const steps: Step[] = [
    snapshotStep(n, { dir: `${dir}/snapshot`, namespace: up.namespace, meshVersion: live.version ?? to, from }),
    ...cp.steps,
    restoreCrdsStep(n, backup.dir),
    restoreResourcesStep(n, { from: backup.dir, snapshot: `${dir}/snapshot`, kinds, to }),
    ...(unlabel.length ? [unlabelNamespacesStep(n, unlabel)] : []),
    restartStep(n, { to, injected: backup.injected }),
    verifyRollbackStep(n, {
      to,
      namespace: up.namespace,
      backup: backup.dir,
      release,
      values,
      injected: backup.injected,
    }),
  ];
  const hop: Hop = { index: n, from, to, strategy: cp.strategy, reason: cp.reason, method: up.method, steps };
  const used = new Set(steps.flatMap((s) => s.commands.map((c) => c.bin)));
  const binaries = Object.entries(opts.meshctlFound ?? {})
    .filter(([, b]) => used.has(b.path))
    .map(([version, b]) => ({ version, path: b.path, why: b.why }));
  const child = pinnedChildren(childKubeconfigPath(dir), opts.context, [hop]);
  return {
    ...base,
    hops: [hop],
    warnings,
    refusals,
    ...(binaries.length ? { binaries } : {}),
    ...child,
    rollback: meta(cp.path, losses, forced),
  };
}
