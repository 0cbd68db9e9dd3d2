/**
 * The rollback plan: RollbackFacts + RollbackOptions -> RollbackPlan. PURE: no I/O; the same facts
 * always give the same plan, so `rollback --resume` builds it again from the journaled facts and
 * refuses when it differs.
 *
 * One hop, backwards, from what runs now to the version before hop N (the last hop the run
 * started, or hop 1 with --all-hops), with the install method it had:
 * - snapshot: back up what is there now (objects created since the upgrade come back from it);
 * - control plane (nothing when it already runs the old version with the backed-up values):
 *   - nginx-meshctl: remove with the running version's binary, [OpenShift: re-roll out of the mesh,
 *     wait for the CSI sentinel], deploy with the old binary and the backed-up settings;
 *   - Helm: `helm rollback` to the revision recorded in the backup when Helm still has it, no CRD
 *     changed and no MeshConfig change is carried; else uninstall, delete the CRDs, [OpenShift],
 *     install the old chart with the backed-up values;
 * - restore-crds, restore-resources, reroll, verify-rollback.
 * Losses (exit 3 unless --force; never past a backup that fails verification) and refusals (bad
 * input, exit 2) are data in the plan.
 */
import { commandLineCredentialNote, deployFlagsFromValues } from '../controlplane/deploy-flags.ts';
import { helmInstall, helmUninstall, type ChartRef, type HelmTarget } from '../controlplane/helm.ts';
import { helmRollback } from '../controlplane/helm.ts';
import { meshctlDeploy, meshctlRemove, type MeshctlTarget } from '../controlplane/meshctl.ts';
import { catalog, resourceName } from '../mesh/catalog.ts';
import { autoInjectLabel, controlPlaneDeployment } from '../mesh/version-notes.ts';
import { cloneValues } from '../secret.ts';
import { childKubeconfigPath, pinnedChildren } from '../engine/child-kubeconfig.ts';
import { chartForHop, meshctlMissingFix } from '../upgrade/hop-steps.ts';
import { expectedSettings } from '../engine/phases/settings-check.ts';
import type { Command, Hop, PlanOptions, PlanWarning, Refusal, Step, StepKind, StepOf } from '../engine/types.ts';
import { rollbackDir, type ObjectList, type RollbackFacts, type RollbackOptions, type RollbackPath, type RollbackPlan, type UpgradeRun } from './types.ts';

/** The hop whose backup the rollback goes back to: hop 1 with --all-hops, else the last hop whose backup is done. */
export function rollbackHopIndex(run: Pick<UpgradeRun, 'plan' | 'done'>, allHops: boolean): number | undefined {
  const backedUp = run.plan.hops.filter((h) => run.done.has(`hop${h.index}.backup`)).map((h) => h.index);
  if (backedUp.length === 0) return undefined;
  return allHops ? Math.min(...backedUp) : Math.max(...backedUp);
}

function step<K extends StepKind>(hop: number, kind: K, title: string, flags: { destructive?: boolean; writes?: boolean }, commands: Command[], params: StepOf<K>['params']): Step {
  return { id: `hop${hop}.${kind}`, kind, title, destructive: flags.destructive ?? false, writes: flags.writes ?? true, commands, params } as StepOf<K>;
}

function setPath(values: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let cur = values;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object' || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = v;
}

const listed = (what: string, l: ObjectList) => `${l.count} object(s) ${what}: ${l.sample.join(', ')}${l.count > l.sample.length ? `, ... (${l.count - l.sample.length} more)` : ''}`;

/** Builds the rollback plan. Never throws for bad input: problems become refusals or losses. */
export function buildRollbackPlan(facts: RollbackFacts, opts: RollbackOptions): RollbackPlan {
  const { run, backup, live } = facts;
  const up = run.plan;
  const dir = rollbackDir(opts.from);
  const refusals: Refusal[] = [];
  const losses: RollbackPlan['rollback']['losses'] = [];
  const warnings: PlanWarning[] = [];
  const n = backup?.hop ?? 0;
  const upHop = up.hops.find((h) => h.index === n);
  const to = upHop?.from ?? up.from;
  const from = live.version ?? 'none';
  const base = { from, to, namespace: up.namespace, method: up.method, environment: up.environment, release: up.release };
  const meta = (path: RollbackPath): RollbackPlan['rollback'] => ({ source: opts.from, upgradeRunId: run.runId, hop: n, allHops: opts.allHops, path, losses, forced: false });
  if (!backup || !upHop) {
    refusals.push({ id: 'nothing-to-roll-back', message: `the run in ${opts.from} has no hop whose backup was taken: it changed nothing to roll back`, fix: 'check the cluster with `kubectl nsm-upgrade status`' });
    return { ...base, hops: [], warnings, refusals, rollback: meta('already-back') };
  }

  // What going back would lose.
  if (backup.problem) losses.push({ id: 'backup-unverified', forceable: false, message: `the backup ${backup.dir} fails verification: ${backup.problem}`, fix: 'nothing can be rolled back from a backup that is damaged or was changed; --force does not change that. Restore by hand from a copy you trust' });
  if (!backup.values) losses.push({ id: 'no-settings', forceable: true, message: `the backup ${backup.dir} holds no Helm release values: the old mesh's settings are unknown, a redeploy would use the defaults`, fix: 'pass --force to redeploy with the chart defaults' });
  for (const i of live.incompatible) losses.push({ id: 'not-held', forceable: true, message: `${i.object} was created after the upgrade and NSM ${to}'s CRDs cannot hold it: ${i.why}`, fix: 'back it up and delete it (kubectl get -o yaml, kubectl delete), then run the rollback again; or pass --force to lose it' });
  for (const s of live.meshConfig.noSetting) losses.push({ id: 'meshconfig-no-setting', forceable: true, message: `MeshConfig nginx-mesh-config was changed after the upgrade (${s}) and NSM ${to} has no setting for it`, fix: 'change it back (kubectl edit meshconfig nginx-mesh-config -n ' + up.namespace + '), then run the rollback again; or pass --force to lose it' });
  const forced = opts.force && losses.length > 0 && losses.every((l) => l.forceable);

  if (live.changed.count) warnings.push({ id: 'changed-since', hop: n, message: `${listed('changed since the backup', live.changed)}; they go back to their backed-up state`, items: [] });
  if (live.deleted.count) warnings.push({ id: 'deleted-since', hop: n, message: `${listed('deleted since the backup', live.deleted)}; they are re-created`, items: [] });
  if (live.created.count) warnings.push({ id: 'created-since', hop: n, message: `${listed('created since the backup', live.created)}; they are kept (restored from the snapshot when the CRDs go)`, items: [] });
  const carried = Object.entries(live.meshConfig.carried);
  if (carried.length) warnings.push({ id: 'meshconfig-carried', hop: n, message: `MeshConfig nginx-mesh-config was changed after the upgrade; NSM ${to} gets these settings too`, items: carried.map(([p, v]) => `${p}=${JSON.stringify(v)}`) });

  // The old mesh's settings: the backup's values, with what was changed in MeshConfig since.
  const values = cloneValues(backup.values ?? {}) as Record<string, unknown>;
  for (const [p, v] of carried) setPath(values, p, v);

  const ns = up.namespace;
  const release = up.release ?? backup.release?.name ?? 'nsm';
  const inputs = { ...opts, backupDir: dir } as Pick<PlanOptions, 'chart' | 'meshctlBinaries'>;
  const steps: Step[] = [
    step(n, 'snapshot', `Back up the mesh's resources as they are now (NSM ${from}) into ${dir}/snapshot`, { writes: false }, [], { dir: `${dir}/snapshot`, namespace: ns, meshVersion: live.version ?? to }),
  ];
  const meshctl = (version: string, flag: '--meshctl' | '--meshctl-current'): MeshctlTarget => {
    const bin = opts.meshctlBinaries[version];
    if (!bin) refusals.push({ id: 'meshctl-missing', message: `the rollback needs nginx-meshctl ${version}, which was not given and is not on PATH`, fix: meshctlMissingFix(version, flag) });
    return { bin: bin ?? `nginx-meshctl-${version}`, namespace: ns, timeout: opts.timeout, kubeconfig: childKubeconfigPath(dir) };
  };
  const helm = (): HelmTarget => {
    if (!opts.helm) refusals.push({ id: 'helm-missing', message: 'the mesh was installed with helm, but no usable helm binary (Helm 3 or 4) was found', fix: 'pass --helm PATH to a Helm 3 or Helm 4 binary' });
    return { bin: opts.helm?.bin ?? 'helm', major: opts.helm?.major ?? 3, namespace: ns, timeout: opts.timeout, kubeconfig: childKubeconfigPath(dir), context: opts.context };
  };
  const openshift = () => {
    if (up.environment !== 'openshift') return;
    steps.push(step(n, 'restart-unmeshed', 'Re-roll injected workloads so no pod keeps a sidecar (the CSI sentinel waits for that)', { destructive: true }, [], { reason: 'openshift-sentinel' }));
    steps.push(step(n, 'wait-sentinel', `Wait until Job csi-driver-sentinel in ${ns} is deleted`, { writes: false }, [], { namespace: ns, job: 'csi-driver-sentinel' }));
  };

  const back = live.version === to && live.releaseStatus === 'deployed' && live.valuesMatchBackup && carried.length === 0;
  let path: RollbackPath = 'already-back';
  let strategy: Hop['strategy'] = 'in-place';
  let reason = `the control plane already runs NSM ${to} with the backed-up settings`;
  if (!back && up.method === 'meshctl') {
    path = 'meshctl-redeploy';
    strategy = 'manual';
    reason = `nginx-meshctl has no downgrade: remove${live.version ? ` with nginx-meshctl ${live.version}` : ''}, deploy with nginx-meshctl ${to} and the backed-up settings`;
    if (live.version) steps.push(step(n, 'remove', `nginx-meshctl ${live.version} remove (deletes the control plane and the mesh CRDs; their objects are in the backups)`, { destructive: true }, [meshctlRemove(meshctl(live.version, '--meshctl-current'))], { version: live.version, release }));
    openshift();
    const flags = deployFlagsFromValues(values, to, {}, dir);
    for (const w of flags.warnings) warnings.push({ id: 'carry-over', hop: n, message: w, items: [] });
    const exposed = commandLineCredentialNote(flags.result, false);
    if (exposed) warnings.push({ id: 'credential-on-command-line', hop: n, message: exposed, items: [] });
    const target = meshctl(to, '--meshctl');
    steps.push(step(n, 'deploy', `nginx-meshctl ${to} deploy with the backed-up settings`, {}, [meshctlDeploy(target, flags.result)],
      { version: to, files: flags.files.map((f) => ({ path: f.path, content: { secret: f.content } })), undo: meshctlRemove(target), expect: expectedSettings(flags.result) }));
  } else if (!back) {
    const h = helm();
    const rev = backup.release?.revision;
    const canRollback = live.version !== undefined && rev !== undefined && live.restorableRevisions.includes(rev) && live.crdChanges.length === 0 && carried.length === 0;
    if (canRollback) {
      path = 'helm-rollback';
      reason = `Helm still records revision ${rev} and no CRD changed`;
      steps.push(step(n, 'helm-rollback', `helm rollback ${release} to revision ${rev} (NSM ${to})`, { destructive: true }, [helmRollback(h, { release, revision: rev })], { release, revision: rev, version: to }));
    } else {
      path = 'helm-reinstall';
      strategy = 'manual';
      const why = live.version === undefined ? 'no release is installed' : rev === undefined || !live.restorableRevisions.includes(rev) ? `Helm no longer records revision ${rev ?? '(none in the backup)'} as it was backed up` : live.crdChanges.length ? `the CRDs changed (${live.crdChanges[0]}${live.crdChanges.length > 1 ? ', ...' : ''}), which helm rollback does not undo` : 'MeshConfig changes are carried into the values';
      reason = `${why}: uninstall, then install the NSM ${to} chart with the backed-up values`;
      let chart: ChartRef = { ref: '' };
      const c = chartForHop(inputs as PlanOptions, to, 1);
      if ('fix' in c) refusals.push({ ...c, fix: `${c.fix} (the rollback installs NSM ${to})` }); else chart = c;
      if (live.version !== undefined) steps.push(step(n, 'remove', `helm uninstall ${release}`, { destructive: true }, [helmUninstall(h, release)], { release }));
      steps.push(step(n, 'delete-crds', 'Delete the mesh CRDs (their objects are in the backups)', { destructive: true }, [], { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' }));
      openshift();
      const valuesFile = `${dir}/values-${to}.yaml`;
      steps.push(step(n, 'deploy', `helm install ${release} chart ${chart.version ?? chart.ref} (NSM ${to}) with the backed-up values`, {},
        [helmInstall(h, { release, chart, valuesFile })], { version: to, release, chart, files: [{ path: valuesFile, content: { values } }], undo: helmUninstall(h, release), expect: {} }));
    }
  }
  const kinds = catalog.filter((k) => backup.crds.some((c) => c.metadata?.name === resourceName(k))).map((k) => k.kind);
  steps.push(step(n, 'restore-crds', `Put the mesh CRDs back as in ${backup.dir}/crds.yaml (old served and storage versions)`, { destructive: true }, [], { from: backup.dir, labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' }));
  steps.push(step(n, 'restore-resources', `Restore every resource exactly as backed up in ${backup.dir}, keeping the ones created since`, { destructive: true }, [], { from: backup.dir, snapshot: `${dir}/snapshot`, kinds, targetVersion: to }));
  // The opt-in label the upgrade added for 2.0 (--label-namespaces) goes with the hops it came with.
  const labelled = up.hops.filter((h) => h.index >= n).flatMap((h) => h.steps).filter((s): s is StepOf<'label-namespaces'> => s.kind === 'label-namespaces' && run.done.has(s.id));
  const unlabel = [...new Set(labelled.flatMap((s) => s.params.namespaces))];
  if (unlabel.length) {
    steps.push(step(n, 'label-namespaces', `Remove the label ${autoInjectLabel.key} the upgrade added from ${unlabel.length} namespace(s)`, {}, [], { namespaces: unlabel, label: { [autoInjectLabel.key]: null } }));
  }
  steps.push(step(n, 'reroll', `Re-roll injected workloads onto NSM ${to} sidecars`, { destructive: true }, [], { targetVersion: to, injected: backup.injected }));
  steps.push(step(n, 'verify-rollback', `Verify: ${controlPlaneDeployment(to)} runs ${to}, CRDs, resources and release values as backed up, sidecars on ${to}`, { writes: false }, [],
    { version: to, namespace: ns, backup: backup.dir, release, values, injected: backup.injected }));

  const hop: Hop = { index: n, from, to, strategy, reason, method: up.method, steps };
  const used = new Set(steps.flatMap((s) => s.commands.map((c) => c.bin)));
  const binaries = Object.entries(opts.meshctlFound ?? {}).filter(([, b]) => used.has(b.path)).map(([version, b]) => ({ version, path: b.path, why: b.why }));
  const child = pinnedChildren(childKubeconfigPath(dir), opts.context, [hop]);
  return { ...base, hops: [hop], warnings, refusals, ...(binaries.length ? { binaries } : {}), ...child, rollback: { ...meta(path), forced } };
}
