/**
 * Phase: back up. An upgrade's hop starts with a backup of the mesh's resources and configuration
 * (verified, hashed: a rollback and the hop's restore trust it only while its manifest is the one
 * journaled here); a rollback starts with a snapshot of what is there now.
 */
import { backupMesh } from '../../backup/backup.ts';
import { manifestSha256 } from '../../backup/verify.ts';
import { skewReport } from '../../workloads/index.ts';
import { step, type Executors } from '../step.ts';
import { writeHopReports } from './hop-reports.ts';

export function backupStep(n: number, p: { dir: string; namespace: string; meshVersion: string }) {
  return step(
    n,
    'backup',
    `Back up the mesh's custom resources and configuration (NSM ${p.meshVersion})`,
    { writes: false },
    [],
    p,
  );
}

export function snapshotStep(n: number, p: { dir: string; namespace: string; meshVersion: string; from: string }) {
  return step(
    n,
    'snapshot',
    `Back up the mesh's resources as they are now (NSM ${p.from}) into ${p.dir}`,
    { writes: false },
    [],
    { dir: p.dir, namespace: p.namespace, meshVersion: p.meshVersion },
  );
}

export const backupExecutors: Executors<'backup' | 'snapshot'> = {
  async backup(ctx) {
    const dir = ctx.step.params.dir;
    // A backup that was not journaled is incomplete (killed mid-write): start it again.
    await ctx.deps.fs.rm(dir, { recursive: true, force: true });
    const s = await backupMesh(ctx.deps, {
      dir,
      concurrency: ctx.concurrency,
      meshNamespace: ctx.step.params.namespace,
      meshVersion: ctx.step.params.meshVersion,
      release: ctx.plan.release,
    });
    // settings.json (every setting's fate) and schema-report.json (the saved objects against the target's CRDs).
    const reports = await writeHopReports(ctx.deps, ctx.plan, ctx.hop, dir, ctx.progress);
    // Which workloads are in the mesh now: after the upgrade each of them must be again, on the new version.
    const skew = await skewReport(ctx.deps, { meshNamespace: ctx.step.params.namespace });
    const injected = skew.workloads.map((w) => ({ namespace: w.namespace, kind: w.kind, name: w.name }));
    ctx.progress(
      `${s.objects} objects in ${s.kinds.length} kinds, ${s.crds} CRDs; verified. ${injected.length} injected workloads recorded`,
    );
    // The manifest's hash: a rollback trusts this backup only while its manifest is the one written here.
    const manifest = await manifestSha256(ctx.deps.fs, dir);
    return {
      data: {
        objects: s.objects,
        kinds: Object.fromEntries(s.kinds.map((k) => [k.kind, k.count])),
        absent: s.absent.map((a) => a.kind),
        injected,
        manifestSha256: manifest,
        ...reports,
      },
    };
  },
  async snapshot(ctx) {
    const { dir, namespace, meshVersion } = ctx.step.params;
    // A snapshot that was not journaled is incomplete (killed mid-write): take it again.
    await ctx.deps.fs.rm(dir, { recursive: true, force: true });
    const s = await backupMesh(ctx.deps, {
      dir,
      concurrency: ctx.concurrency,
      meshNamespace: namespace,
      meshVersion,
      release: ctx.plan.release,
    });
    ctx.progress(`${s.objects} objects in ${s.kinds.length} kinds, ${s.crds} CRDs; verified`);
    return { data: { objects: s.objects, kinds: Object.fromEntries(s.kinds.map((k) => [k.kind, k.count])) } };
  },
};
