/**
 * Phase: restore the backed-up resources. After a redeploy the hop's backup is created again
 * (objects already there are kept); a rollback first restores what was there before it (objects
 * created since the upgrade, from its snapshot), then every backed-up object exactly as backed up.
 * Objects the API refused or never answered for fail the step: a resume restores again.
 */
import { restoreBackup } from '../../backup/restore.ts';
import { noteLines, type RestoreReport } from '../../backup/report.ts';
import { StepError } from '../../errors.ts';
import { step, type Executors } from '../step.ts';
import { assertBackupAsTaken } from '../step-files.ts';
import { targetSchemaFor } from './schema-report.ts';

type Item = RestoreReport['items'][number];
const describe = (i: Item) => `${i.kind} ${i.namespace}/${i.name}: ${i.outcome}${i.detail ? ` (${i.detail})` : ''}`;
const restored = (i: Item) => ['created', 'unchanged', 'overwritten'].includes(i.outcome) && i.verified !== false;

/** Throws when objects could not be restored yet: the step is not done, so --resume runs the (idempotent) restore again. */
function assertAllAttempted(stepId: string, r: RestoreReport, from: string, what: string): void {
  const retry = r.items.filter((i) => i.outcome === 'failed' || i.outcome === 'not-attempted');
  if (retry.length)
    throw new StepError(
      stepId,
      `${retry.length} ${what} could not be restored yet, e.g. ${retry.slice(0, 3).map(describe).join('; ')}`,
      `The backup is intact in ${from}; details in its restore-report.json.`,
    );
}

export function restoreStep(n: number, p: { from: string; to: string }) {
  return step(n, 'restore', `Restore the custom resources from ${p.from}`, {}, [], {
    from: p.from,
    targetVersion: p.to,
  });
}

export function restoreResourcesStep(n: number, p: { from: string; snapshot: string; kinds: string[]; to: string }) {
  return step(
    n,
    'restore-resources',
    `Restore every resource exactly as backed up in ${p.from}, keeping the ones created since`,
    { destructive: true },
    [],
    { from: p.from, snapshot: p.snapshot, kinds: p.kinds, targetVersion: p.to },
  );
}

export const restoreExecutors: Executors<'restore' | 'restore-resources'> = {
  async restore(ctx) {
    await assertBackupAsTaken(ctx, ctx.step.params.from);
    const r = await restoreBackup(ctx.deps, {
      dir: ctx.step.params.from,
      onConflict: 'skip',
      dryRun: false,
      timeoutMs: ctx.timeoutMs,
      concurrency: ctx.concurrency,
      targetMeshVersion: ctx.step.params.targetVersion,
      signal: ctx.signal,
      schema: await targetSchemaFor(ctx.deps, ctx.plan, ctx.hop),
    });
    ctx.progress(
      `${r.objects} objects: ${Object.entries(r.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
    // Owner references whose owner is gone and finalizers are not set again (owner-refs.ts): said, never silent.
    for (const line of r.items.flatMap(noteLines)) ctx.progress(line);
    assertAllAttempted(ctx.step.id, r, ctx.step.params.from, 'object(s)');
    return {
      data: { objects: r.objects, counts: r.counts, lastCreatedAt: r.lastCreatedAt },
      unresolved: r.items.filter((i) => !restored(i)).map(describe),
    };
  },
  async 'restore-resources'(ctx) {
    const p = ctx.step.params;
    const common = {
      dryRun: false,
      timeoutMs: ctx.timeoutMs,
      concurrency: ctx.concurrency,
      targetMeshVersion: p.targetVersion,
      signal: ctx.signal,
      kinds: p.kinds,
    };
    // First what was there before the rollback (objects created since the upgrade), then the backup,
    // overwriting: every backed-up object ends exactly as backed up.
    const snap = await restoreBackup(ctx.deps, { ...common, dir: p.snapshot, onConflict: 'skip' });
    const r = await restoreBackup(ctx.deps, { ...common, dir: p.from, onConflict: 'overwrite' });
    assertAllAttempted(ctx.step.id, r, p.from, 'backed-up object(s)');
    const backedUp = new Set(r.items.map((i) => `${i.kind}/${i.namespace}/${i.name}`));
    const kept = snap.items.filter(
      (i) => !backedUp.has(`${i.kind}/${i.namespace}/${i.name}`) && ['created', 'unchanged'].includes(i.outcome),
    ).length;
    ctx.progress(`${r.objects} backed-up objects restored; ${kept} object(s) created since the upgrade kept`);
    const unresolved = [
      ...r.items.filter((i) => !restored(i)).map(describe),
      ...snap.items
        .filter((i) => i.outcome === 'failed' || i.outcome === 'missing-namespace')
        .map((i) => `created since the upgrade, not restored: ${describe(i)}`),
    ];
    // The policy gap ends with the newest object either restore created (engine/window.ts).
    const lastCreatedAt =
      [r.lastCreatedAt, snap.lastCreatedAt]
        .filter((t): t is string => t !== null)
        .sort((x, y) => Date.parse(x) - Date.parse(y))
        .at(-1) ?? null;
    return { data: { objects: r.objects, counts: r.counts, kept, lastCreatedAt }, unresolved };
  },
};
