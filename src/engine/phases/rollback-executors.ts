/**
 * The executors of the rollback's own step kinds, registered in upgrade/steps.ts beside the
 * upgrade's (a rollback also runs remove, delete-crds, restart-unmeshed, wait-sentinel and deploy
 * with those). Each is idempotent: `rollback --resume` runs an unfinished step again.
 */
import type { StepContext, StepOutcome } from '../step-context.ts';
import type { RollbackStep, StepOf } from '../types.ts';
import { StepError } from '../../errors.ts';
import { runStepCommands } from '../step-commands.ts';
import { backupMesh } from '../../backup/backup.ts';
import { restoreBackup } from '../../backup/restore.ts';
import type { RestoreReport } from '../../backup/report.ts';
import { compareWithBackup } from '../../backup/compare.ts';
import { verifyBackup } from '../../backup/verify.ts';
import { skewReport } from '../../workloads/index.ts';
import { rerollForStep } from './reroll.ts';
import { installedNow, waitForHelmIdle } from '../../mesh/live-state.ts';
import { reinjectWorkloads } from './reinject.ts';
import { putCrdsBack } from './restore-crds.ts';
import { crdDifferences, valueDifferences, type CrdLike } from '../../rollback/compat.ts';
import { listAll } from '../../kube/list.ts';
import { collectionPath, core } from '../../kube/paths.ts';

type Executor<S> = (ctx: StepContext & { step: S }) => Promise<StepOutcome>;

const describe = (i: RestoreReport['items'][number]) => `${i.kind} ${i.namespace}/${i.name}: ${i.outcome}${i.detail ? ` (${i.detail})` : ''}`;

export const rollbackExecutors: { [K in RollbackStep['kind']]: Executor<StepOf<K>> } = {
  async snapshot(ctx) {
    const { dir, namespace, meshVersion } = ctx.step.params;
    // A snapshot that was not journaled is incomplete (killed mid-write): take it again.
    await ctx.deps.fs.rm(dir, { recursive: true, force: true });
    const s = await backupMesh(ctx.deps, { dir, concurrency: ctx.concurrency, meshNamespace: namespace, meshVersion, release: ctx.plan.release });
    ctx.progress(`${s.objects} objects in ${s.kinds.length} kinds, ${s.crds} CRDs; verified`);
    return { data: { objects: s.objects, kinds: Object.fromEntries(s.kinds.map((k) => [k.kind, k.count])) } };
  },

  async 'helm-rollback'(ctx) {
    await waitForHelmIdle(ctx.deps, ctx.plan.namespace, ctx.plan.release, ctx.timeoutMs, ctx.progress, ctx.signal);
    const now = await installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release);
    if (now?.version === ctx.step.params.version && now.releaseStatus === 'deployed') return { skipped: `already on ${ctx.step.params.version}` };
    await runStepCommands(ctx);
    return {};
  },

  async 'restore-crds'(ctx) {
    const backup = await verifyBackup(ctx.deps.fs, ctx.step.params.from, { keepObjects: false });
    const done = await putCrdsBack(ctx.deps, { crds: backup.crds as CrdLike[], labelSelector: ctx.step.params.labelSelector, timeoutMs: ctx.timeoutMs, progress: ctx.progress, signal: ctx.signal });
    ctx.progress(done.length ? done.join('; ') : 'the CRDs already were as backed up');
    return { data: { changed: done } };
  },

  async 'restore-resources'(ctx) {
    const p = ctx.step.params;
    const common = { dryRun: false, timeoutMs: ctx.timeoutMs, concurrency: ctx.concurrency, targetMeshVersion: p.targetVersion, signal: ctx.signal, kinds: p.kinds };
    // First what was there before the rollback (objects created since the upgrade), then the backup,
    // overwriting: every backed-up object ends exactly as backed up.
    const snap = await restoreBackup(ctx.deps, { ...common, dir: p.snapshot, onConflict: 'skip' });
    const r = await restoreBackup(ctx.deps, { ...common, dir: p.from, onConflict: 'overwrite' });
    const retry = r.items.filter((i) => i.outcome === 'failed' || i.outcome === 'not-attempted');
    if (retry.length) {
      throw new StepError(ctx.step.id, `${retry.length} backed-up object(s) could not be restored yet, e.g. ${retry.slice(0, 3).map(describe).join('; ')}`, `The backup is intact in ${p.from}; details in its restore-report.json.`);
    }
    const backedUp = new Set(r.items.map((i) => `${i.kind}/${i.namespace}/${i.name}`));
    const kept = snap.items.filter((i) => !backedUp.has(`${i.kind}/${i.namespace}/${i.name}`) && ['created', 'unchanged'].includes(i.outcome)).length;
    ctx.progress(`${r.objects} backed-up objects restored; ${kept} object(s) created since the upgrade kept`);
    const unresolved = [
      ...r.items.filter((i) => !['created', 'unchanged', 'overwritten'].includes(i.outcome) || i.verified === false).map(describe),
      ...snap.items.filter((i) => i.outcome === 'failed' || i.outcome === 'missing-namespace').map((i) => `created since the upgrade, not restored: ${describe(i)}`),
    ];
    return { data: { objects: r.objects, counts: r.counts, kept }, unresolved };
  },

  async reroll(ctx) {
    if (ctx.restart === 'none') return { skipped: '--restart none' };
    const { targetVersion, injected } = ctx.step.params;
    const unresolved: string[] = [];
    if (ctx.hop.steps.some((s) => s.kind === 'restart-unmeshed')) {
      // Every injected workload was re-rolled out of the mesh: bring back the ones that had a sidecar before the upgrade.
      const r = await reinjectWorkloads(ctx.deps, injected, { timeoutMs: ctx.timeoutMs, concurrency: ctx.concurrency, maxFailures: ctx.maxFailures, progress: ctx.progress, signal: ctx.signal });
      ctx.progress(`re-rolled ${r.restarted.length} workloads back into the mesh`);
      unresolved.push(...r.unresolved);
    }
    const { result: r, unresolved: left } = await rerollForStep(ctx, { mode: ctx.restart, targetVersion, operation: 'rollback' });
    if (r.interrupted) throw new StepError(ctx.step.id, `interrupted: ${r.notStarted.length} workload(s) not re-rolled yet`);
    unresolved.push(...left);
    return { data: { restarted: r.restarted.length, converged: r.final.converged, byVersion: r.final.byVersion }, unresolved };
  },

  async 'verify-rollback'(ctx) {
    const p = ctx.step.params;
    const unresolved: string[] = [];
    const report = await skewReport(ctx.deps, { meshNamespace: p.namespace, targetVersion: p.version });
    if (report.controlPlane.version !== p.version) unresolved.push(`control plane runs ${report.controlPlane.version ?? 'nothing'}, expected ${p.version}`);
    for (const w of report.workloads.filter((x) => x.behind)) unresolved.push(`${w.kind} ${w.namespace}/${w.name} runs sidecars ${Object.keys(w.versions).join(', ')}`);
    const meshed = new Set(report.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`));
    for (const w of p.injected) if (!meshed.has(`${w.kind}/${w.namespace}/${w.name}`)) unresolved.push(`${w.kind} ${w.namespace}/${w.name} had a sidecar before the upgrade and has none now`);
    const backup = await verifyBackup(ctx.deps.fs, p.backup, { keepObjects: false });
    const live = await listAll(ctx.deps.kube, collectionPath(core.crds), { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' });
    unresolved.push(...crdDifferences(live as CrdLike[], backup.crds as CrdLike[]));
    const r = await compareWithBackup(ctx.deps, { dir: p.backup, targetMeshVersion: p.version });
    for (const d of r.differences) unresolved.push(`${d.kind} ${d.namespace}/${d.name}: ${d.state === 'missing' ? 'missing from the cluster' : 'differs from the backup'} (kubectl nsm-upgrade restore --from ${p.backup})`);
    const now = await installedNow(ctx.deps, p.namespace, p.release);
    if (!now) unresolved.push(`no Helm release ${p.release} in ${p.namespace} to check the settings on`);
    else unresolved.push(...valueDifferences(p.values, now.values).map((d) => `release ${p.release}: ${d}`));
    ctx.progress(`control plane ${report.controlPlane.version}; ${report.pods} injected pods ${JSON.stringify(report.byVersion)}; ${r.objects} custom resources, ${backup.crds.length} CRDs and the release values checked`);
    return { data: { controlPlane: report.controlPlane.version, byVersion: report.byVersion, objects: r.objects }, unresolved };
  },
};
