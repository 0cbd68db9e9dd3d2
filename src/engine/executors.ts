import type { DeployStep, Step, StepKind, StepOf } from './types.ts';
import { StepError } from '../errors.ts';
import { childFailureText } from '../controlplane/child-output.ts';
import { formatCommand } from '../controlplane/runner.ts';
import { backupMesh } from '../backup/backup.ts';
import { manifestSha256 } from '../backup/verify.ts';
import { assertBackupAsTaken, writeStepFiles } from './step-files.ts';
import { targetSchemaFor } from './phases/schema-report.ts';
import { writeHopReports } from './phases/hop-reports.ts';
import { restoreBackup } from '../backup/restore.ts';
import { noteLines } from '../backup/report.ts';
import { compareWithBackup } from '../backup/compare.ts';
import { skewReport } from '../workloads/index.ts';
import { rerollForStep } from './phases/reroll.ts';
import { waitForSentinelGone } from '../controlplane/sentinel.ts';
import { applyCrdsFromYaml, deleteMeshCrds } from './phases/crds.ts';
import { installedNow, waitForHelmIdle, waitForNamespaceSettled } from '../mesh/live-state.ts';
import { finishRemoval, waitForNoMeshTrace } from '../leftovers/mesh-traces.ts';
import { checkDeployed } from '../mesh/deploy-health.ts';
import { checkCarriedSettings } from './phases/settings-check.ts';
import { reinjectWorkloads } from './phases/reinject.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import { objectPath, core } from '../kube/paths.ts';
import { rollbackExecutors } from './phases/rollback-executors.ts';
import type { StepContext, StepOutcome } from './step-context.ts';
import { cleanLeftoversNow, leftoversBeforeDeploy } from './phases/leftovers.ts';
import { runStepCommands } from './step-commands.ts';

export type { StepContext, StepOutcome };

type Executor<S extends Step = Step> = (ctx: StepContext<S>) => Promise<StepOutcome>;

/** The workloads that had sidecars when this hop's backup was taken (journaled by the backup step). */
function injectedAtBackup(ctx: StepContext): WorkloadRef[] {
  const backup = ctx.hop.steps.find((s) => s.kind === 'backup');
  return (backup && (ctx.journalData.get(backup.id)?.injected as WorkloadRef[] | undefined)) ?? [];
}

const executors: { [K in StepKind]: Executor<StepOf<K>> } = {
  async backup(ctx) {
    const dir = ctx.step.params.dir;
    // A backup that was not journaled is incomplete (killed mid-write): start it again.
    await ctx.deps.fs.rm(dir, { recursive: true, force: true });
    const s = await backupMesh(ctx.deps, { dir, concurrency: ctx.concurrency, meshNamespace: ctx.step.params.namespace, meshVersion: ctx.step.params.meshVersion, release: ctx.plan.release });
    // settings.json (every setting's fate) and schema-report.json (the saved objects against the target's CRDs).
    const reports = await writeHopReports(ctx.deps, ctx.plan, ctx.hop, dir, ctx.progress);
    // Which workloads are in the mesh now: after the upgrade each of them must be again, on the new version.
    const skew = await skewReport(ctx.deps, { meshNamespace: ctx.step.params.namespace });
    const injected = skew.workloads.map((w) => ({ namespace: w.namespace, kind: w.kind, name: w.name }));
    ctx.progress(`${s.objects} objects in ${s.kinds.length} kinds, ${s.crds} CRDs; verified. ${injected.length} injected workloads recorded`);
    // The manifest's hash: a rollback trusts this backup only while its manifest is the one written here.
    const manifest = await manifestSha256(ctx.deps.fs, dir);
    return { data: { objects: s.objects, kinds: Object.fromEntries(s.kinds.map((k) => [k.kind, k.count])), absent: s.absent.map((a) => a.kind), injected, manifestSha256: manifest, ...reports } };
  },
  'clean-leftovers': (ctx) => cleanLeftoversNow(ctx.deps, { namespace: ctx.step.params.namespace, release: ctx.plan.release, approved: ctx.step.params.found, timeoutMs: ctx.timeoutMs, progress: ctx.progress, signal: ctx.signal }),
  async 'label-namespaces'(ctx) {
    const label = ctx.step.params.label;
    for (const ns of ctx.step.params.namespaces) {
      await ctx.deps.kube.request({ method: 'PATCH', path: objectPath(core.namespaces, ns), body: { metadata: { labels: label } } });
      ctx.progress(`${Object.values(label).some((v) => v === null) ? 'removed the label from' : 'labelled'} ${ns}`);
    }
    return {};
  },
  async 'apply-crds'(ctx) {
    const cmd = ctx.step.commands[0]!;
    const res = await ctx.deps.exec.run(cmd);
    if (res.exitCode !== 0) throw new StepError(ctx.step.id, `${formatCommand(cmd)} exited ${res.exitCode}: ${res.stderr}`);
    const names = await applyCrdsFromYaml(ctx.deps, res.stdout, ctx.timeoutMs, ctx.signal);
    ctx.progress(`applied ${names.length} CRDs`);
    return { data: { crds: names } };
  },
  async upgrade(ctx) {
    await waitForHelmIdle(ctx.deps, ctx.plan.namespace, ctx.plan.release, ctx.timeoutMs, ctx.progress, ctx.signal);
    const now = await installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release);
    if (now?.version === ctx.hop.to && now.releaseStatus === 'deployed') return { skipped: `already on ${ctx.hop.to}` };
    await runStepCommands(ctx);
    return {};
  },
  async remove(ctx) {
    await waitForHelmIdle(ctx.deps, ctx.plan.namespace, ctx.plan.release, ctx.timeoutMs, ctx.progress, ctx.signal);
    const now = await installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release);
    // Real nginx-meshctl remove skips deleting the CRDs and the namespace when its uninstall reported
    // an error (a failed hook), and a killed run may stop between the two: finish that cleanup here.
    const finish = async (): Promise<string | undefined> => {
      if (ctx.hop.method !== 'meshctl') return undefined;
      const done = await finishRemoval(ctx.deps, { namespace: ctx.plan.namespace, keepNamespace: ctx.plan.environment === 'openshift' });
      if (done.length === 0) return undefined;
      const line = `the removal left part of its cleanup undone; deleted it: ${done.join(', ')}`;
      ctx.progress(line);
      return line;
    };
    if (!now) { const cleaned = await finish(); return { skipped: 'no mesh installed: already removed', ...(cleaned ? { data: { cleaned } } : {}) }; }
    try {
      await runStepCommands(ctx);
    } catch (err) {
      // Helm deletes the release before running post-delete hooks: when only a hook failed, the mesh is gone.
      if (await installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release)) throw err;
      const warning = `the removal reported an error, but the mesh is gone: ${(err as Error).message.split('\n').slice(-2).join(' ')}`;
      ctx.progress(warning);
      const cleaned = await finish();
      return { data: { warning, ...(cleaned ? { cleaned } : {}) } };
    }
    const cleaned = await finish();
    return cleaned ? { data: { cleaned } } : {};
  },
  async 'delete-crds'(ctx) {
    const names = await deleteMeshCrds(ctx.deps, ctx.step.params.labelSelector, ctx.timeoutMs, ctx.signal);
    ctx.progress(`deleted ${names.length} CRDs`);
    return { data: { crds: names } };
  },
  async 'restart-unmeshed'(ctx) {
    // Not recorded: this re-roll takes the workloads out of a removed mesh, `restart` cannot continue it.
    const { result: r, unresolved } = await rerollForStep(ctx, { mode: 'all', targetVersion: '(none: mesh removed)', operation: 'upgrade', record: false });
    if (r.interrupted) throw new StepError(ctx.step.id, `interrupted: ${r.notStarted.length} workload(s) not re-rolled yet`);
    // Every workload must be out of the mesh before the CSI sentinel can finish: a stopped re-roll stops the run here.
    if (r.stoppedAtGate) throw new StepError(ctx.step.id, `the re-roll out of the mesh stopped at the failure gate: ${unresolved.join('; ')}`, `Fix the cause, then continue the run with --resume (the mesh is removed; the backup holds its resources).`);
    return { data: { restarted: r.restarted.length }, unresolved };
  },
  async 'wait-sentinel'(ctx) {
    const r = await waitForSentinelGone(ctx.deps, { namespace: ctx.step.params.namespace, timeoutMs: ctx.timeoutMs, onProgress: ctx.progress, signal: ctx.signal });
    return { data: r, skipped: r.existed ? undefined : 'no csi-driver-sentinel Job: none was created at removal, or it has already finished' };
  },
  async deploy(ctx) {
    // What the removal (or an older one) left that this deploy would trip over: cleared with --clean-leftovers, else the step stops before deploying.
    const cleared = await leftoversBeforeDeploy(ctx.deps, { plan: ctx.plan, namespace: ctx.plan.namespace, release: ctx.plan.release, timeoutMs: ctx.timeoutMs, progress: ctx.progress, signal: ctx.signal });
    await waitForNamespaceSettled(ctx.deps, ctx.plan.namespace, ctx.timeoutMs, ctx.progress, ctx.signal);
    await waitForHelmIdle(ctx.deps, ctx.plan.namespace, ctx.plan.release, ctx.timeoutMs, ctx.progress, ctx.signal);
    const now = await installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release);
    let redeployed: string | undefined;
    if (now?.version === ctx.hop.to) {
      // A deploy an earlier run started may have failed (release installed, control plane never healthy).
      const verdict = await checkDeployed(ctx.deps, { namespace: ctx.plan.namespace, version: ctx.hop.to, releaseStatus: now.releaseStatus, graceMs: Math.min(ctx.timeoutMs, 180_000), progress: ctx.progress, signal: ctx.signal });
      if (verdict.state === 'healthy') return { skipped: `NSM ${ctx.hop.to} is already deployed` };
      const undo = ctx.step.params.undo;
      redeployed = `an earlier deploy of NSM ${ctx.hop.to} failed (${verdict.why}): removed the half-installed release and deployed again`;
      ctx.progress(`an earlier deploy of NSM ${ctx.hop.to} failed (${verdict.why}): removing the half-installed release, then deploying again`);
      await runStepCommands(ctx, [undo]);
      if (ctx.hop.method === 'meshctl') await finishRemoval(ctx.deps, { namespace: ctx.plan.namespace, keepNamespace: ctx.plan.environment === 'openshift' });
      await waitForNamespaceSettled(ctx.deps, ctx.plan.namespace, ctx.timeoutMs, ctx.progress, ctx.signal);
    }
    // Real nginx-meshctl deploy refuses while any trace of a mesh exists (any namespace): wait, showing what is left.
    // CRDs that no release owns and nobody is deleting (a remove or deploy killed half-way) would never go: delete them.
    if (ctx.hop.method === 'meshctl' && !now && !redeployed) {
      const cleaned = await finishRemoval(ctx.deps, { namespace: ctx.plan.namespace, keepNamespace: true });
      if (cleaned.length) ctx.progress(`deleted what an interrupted removal left: ${cleaned.join(', ')}`);
    }
    if (ctx.hop.method === 'meshctl') await waitForNoMeshTrace(ctx.deps, { namespace: ctx.plan.namespace, timeoutMs: ctx.timeoutMs, progress: ctx.progress, signal: ctx.signal });
    await writeStepFiles(ctx, ctx.step.params.files);
    await runStepCommands(ctx);
    return redeployed || cleared.length ? { data: { ...(redeployed ? { redeployed } : {}), ...(cleared.length ? { cleared } : {}) } } : {};
  },
  async restore(ctx) {
    await assertBackupAsTaken(ctx, ctx.step.params.from);
    const r = await restoreBackup(ctx.deps, { dir: ctx.step.params.from, onConflict: 'skip', dryRun: false, timeoutMs: ctx.timeoutMs, concurrency: ctx.concurrency, targetMeshVersion: ctx.step.params.targetVersion, signal: ctx.signal,
      schema: await targetSchemaFor(ctx.deps, ctx.plan, ctx.hop) });
    ctx.progress(`${r.objects} objects: ${Object.entries(r.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')}`);
    // Owner references whose owner is gone and finalizers are not set again (owner-refs.ts): said, never silent.
    for (const line of r.items.flatMap(noteLines)) ctx.progress(line);
    const describe = (i: (typeof r.items)[number]) => `${i.kind} ${i.namespace}/${i.name}: ${i.outcome}${i.detail ? ` (${i.detail})` : ''}`;
    // Objects the API refused or never answered for must be retried: the step is not done, so
    // --resume runs the (idempotent) restore again. Differences and missing namespaces are reported.
    const retry = r.items.filter((i) => i.outcome === 'failed' || i.outcome === 'not-attempted');
    if (retry.length) {
      throw new StepError(ctx.step.id, `${retry.length} object(s) could not be restored yet, e.g. ${retry.slice(0, 3).map(describe).join('; ')}`, `The backup is intact in ${ctx.step.params.from}; details in its restore-report.json.`);
    }
    return { data: { objects: r.objects, counts: r.counts }, unresolved: r.items.filter((i) => !['created', 'unchanged', 'overwritten'].includes(i.outcome) || i.verified === false).map(describe) };
  },
  async restart(ctx) {
    if (ctx.restart === 'none') return { skipped: '--restart none' };
    const target = ctx.step.params.targetVersion;
    const unmeshed = ctx.hop.steps.some((s) => s.kind === 'restart-unmeshed');
    if (unmeshed) {
      // Every injected workload was re-rolled without the mesh: bring back the ones recorded at backup.
      const r = await reinjectWorkloads(ctx.deps, injectedAtBackup(ctx), { timeoutMs: ctx.timeoutMs, concurrency: ctx.concurrency, maxFailures: ctx.maxFailures, progress: ctx.progress, signal: ctx.signal });
      ctx.progress(`re-rolled ${r.restarted.length} workloads back into the mesh`);
      if (r.unresolved.length) return { data: { reinjected: r.restarted.length }, unresolved: r.unresolved };
    }
    const { result: r, unresolved } = await rerollForStep(ctx, { mode: ctx.restart, targetVersion: target, operation: 'upgrade' });
    if (r.interrupted) throw new StepError(ctx.step.id, `interrupted: ${r.notStarted.length} workload(s) not re-rolled yet`);
    // Stopped at the failure gate: the control plane is done; the run ends not converged (exit 4), naming each failure and how to continue.
    return { data: { restarted: r.restarted.length, converged: r.final.converged, byVersion: r.final.byVersion, ...(r.stoppedAtGate ? { stoppedAtGate: true, notStarted: r.notStarted.length } : {}) }, unresolved };
  },
  async verify(ctx) {
    await assertBackupAsTaken(ctx, ctx.step.params.backup);
    const version = ctx.step.params.version;
    const report = await skewReport(ctx.deps, { meshNamespace: ctx.step.params.namespace, targetVersion: version });
    const unresolved: string[] = [];
    if (report.controlPlane.version !== version) unresolved.push(`control plane runs ${report.controlPlane.version ?? 'nothing'}, expected ${version}`);
    for (const w of report.workloads.filter((x) => x.behind)) unresolved.push(`${w.kind} ${w.namespace}/${w.name} runs sidecars ${Object.keys(w.versions).join(', ')}`);
    const meshedNow = new Set(report.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`));
    for (const w of injectedAtBackup(ctx)) {
      if (!meshedNow.has(`${w.kind}/${w.namespace}/${w.name}`)) unresolved.push(`${w.kind} ${w.namespace}/${w.name} had a sidecar before the upgrade and has none now`);
    }
    // The custom resources must equal the backup. Verify only reads: what is missing or differs is reported, not re-created.
    const backupDir = ctx.step.params.backup;
    const r = await compareWithBackup(ctx.deps, { dir: backupDir, targetMeshVersion: version, schema: await targetSchemaFor(ctx.deps, ctx.plan, ctx.hop) });
    for (const d of r.differences) unresolved.push(`${d.kind} ${d.namespace}/${d.name}: ${d.state === 'missing' ? `missing from the cluster (it is in the backup: kubectl nsm-upgrade restore --from ${backupDir})` : 'differs from the backup'}`);
    // A manual hop: every setting its deploy carried must be on the new mesh (release values; on 2.0 the MeshConfig too).
    const expected = ctx.hop.steps.find((s): s is DeployStep => s.kind === 'deploy')?.params.expect;
    if (expected && Object.keys(expected).length) unresolved.push(...await checkCarriedSettings(ctx.deps, { namespace: ctx.step.params.namespace, release: ctx.plan.release, version, expected }));
    ctx.progress(`control plane ${report.controlPlane.version}; ${report.pods} injected pods ${JSON.stringify(report.byVersion)}; ${r.objects} custom resources checked${expected ? `; ${Object.keys(expected).length} carried settings checked` : ''}`);
    return { data: { controlPlane: report.controlPlane.version, byVersion: report.byVersion, objects: r.objects }, unresolved };
  },
  ...rollbackExecutors,
};

/** Runs a step with the executor of its kind. */
export function executeStep(ctx: StepContext): Promise<StepOutcome> {
  const run = executors[ctx.step.kind] as Executor;
  return run(ctx);
}
