/**
 * Phase: verify, reading only. After an upgrade's hop: the control plane on the hop's version,
 * every workload that had a sidecar has one of that version, the resources equal the hop's backup,
 * and a redeploy's carried settings on the new mesh. After a rollback, the same against the old
 * version, plus the CRDs and the release values as backed up. What differs is reported (the run
 * ends not converged, exit 4), never repaired here.
 */
import { compareWithBackup } from '../../backup/compare.ts';
import { verifyBackup } from '../../backup/verify.ts';
import { listAll } from '../../kube/list.ts';
import { collectionPath, core } from '../../kube/paths.ts';
import { controlPlaneDeployment } from '../../mesh/version-notes.ts';
import { meshCrdSelector } from '../../mesh/catalog.ts';
import { installedNow } from '../../mesh/live-state.ts';
import { skewReport, type SkewReport } from '../../workloads/index.ts';
import type { WorkloadRef } from '../../workloads/owners.ts';
import type { StepContext } from '../step-context.ts';
import { hopStep } from '../step-context.ts';
import { step, type Executors } from '../step.ts';
import { assertBackupAsTaken } from '../step-files.ts';
import { crdDifferences, valueDifferences, type CrdLike } from './compat.ts';
import { injectedBefore } from './restart.ts';
import { targetSchemaFor } from './schema-report.ts';
import type { TargetSchema } from '../../backup/target-shape.ts';
import { checkCarriedSettings } from './settings-check.ts';

export function verifyStep(n: number, p: { to: string; namespace: string; backup: string }) {
  return step(
    n,
    'verify',
    `Verify: ${controlPlaneDeployment(p.to)} runs ${p.to}, custom resources intact, sidecars converged`,
    { writes: false },
    [],
    { version: p.to, namespace: p.namespace, deployment: controlPlaneDeployment(p.to), backup: p.backup },
  );
}

export function verifyRollbackStep(
  n: number,
  p: {
    to: string;
    namespace: string;
    backup: string;
    release: string;
    values: Record<string, unknown>;
    injected: WorkloadRef[];
  },
) {
  return step(
    n,
    'verify-rollback',
    `Verify: ${controlPlaneDeployment(p.to)} runs ${p.to}, CRDs, resources and release values as backed up, sidecars on ${p.to}`,
    { writes: false },
    [],
    {
      version: p.to,
      namespace: p.namespace,
      backup: p.backup,
      release: p.release,
      values: p.values,
      injected: p.injected,
    },
  );
}

/** What both verifies check: the control plane's version, the sidecars, the workloads that lost theirs, the resources against the backup. */
async function checkMesh(
  ctx: StepContext,
  p: {
    version: string;
    namespace: string;
    backup: string;
    injected: readonly WorkloadRef[];
    schema?: TargetSchema | undefined;
    hints: { missing: string; differs: string };
  },
): Promise<{ report: SkewReport; objects: number; unresolved: string[] }> {
  const report = await skewReport(ctx.deps, { meshNamespace: p.namespace, targetVersion: p.version });
  const unresolved: string[] = [];
  if (report.controlPlane.version !== p.version)
    unresolved.push(`control plane runs ${report.controlPlane.version ?? 'nothing'}, expected ${p.version}`);
  for (const w of report.workloads.filter((x) => x.behind))
    unresolved.push(`${w.kind} ${w.namespace}/${w.name} runs sidecars ${Object.keys(w.versions).join(', ')}`);
  const meshed = new Set(report.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`));
  for (const w of p.injected)
    if (!meshed.has(`${w.kind}/${w.namespace}/${w.name}`))
      unresolved.push(`${w.kind} ${w.namespace}/${w.name} had a sidecar before the upgrade and has none now`);
  // The custom resources must equal the backup. Verify only reads: what is missing or differs is reported, not re-created.
  const r = await compareWithBackup(ctx.deps, {
    dir: p.backup,
    targetMeshVersion: p.version,
    ...(p.schema ? { schema: p.schema } : {}),
  });
  for (const d of r.differences)
    unresolved.push(
      `${d.kind} ${d.namespace}/${d.name}: ${d.state === 'missing' ? `missing from the cluster${p.hints.missing}` : `differs from the backup${p.hints.differs}`}`,
    );
  return { report, objects: r.objects, unresolved };
}

export const verifyExecutors: Executors<'verify' | 'verify-rollback'> = {
  async verify(ctx) {
    const p = ctx.step.params;
    await assertBackupAsTaken(ctx, p.backup);
    const { report, objects, unresolved } = await checkMesh(ctx, {
      version: p.version,
      namespace: p.namespace,
      backup: p.backup,
      injected: injectedBefore(ctx),
      schema: await targetSchemaFor(ctx.deps, ctx.plan, ctx.hop),
      hints: { missing: ` (it is in the backup: kubectl nsm-upgrade restore --from ${p.backup})`, differs: '' },
    });
    // A manual hop: every setting its deploy carried must be on the new mesh (release values; on 2.0 the MeshConfig too).
    const expected = hopStep(ctx, 'deploy')?.params.expect;
    if (expected && Object.keys(expected).length)
      unresolved.push(
        ...(await checkCarriedSettings(ctx.deps, {
          namespace: p.namespace,
          release: ctx.plan.release,
          version: p.version,
          expected,
        })),
      );
    ctx.progress(
      `control plane ${report.controlPlane.version}; ${report.pods} injected pods ${JSON.stringify(report.byVersion)}; ${objects} custom resources checked${expected ? `; ${Object.keys(expected).length} carried settings checked` : ''}`,
    );
    return { data: { controlPlane: report.controlPlane.version, byVersion: report.byVersion, objects }, unresolved };
  },
  async 'verify-rollback'(ctx) {
    const p = ctx.step.params;
    const hint = ` (kubectl nsm-upgrade restore --from ${p.backup})`;
    const { report, objects, unresolved } = await checkMesh(ctx, {
      version: p.version,
      namespace: p.namespace,
      backup: p.backup,
      injected: p.injected,
      hints: { missing: hint, differs: hint },
    });
    const backup = await verifyBackup(ctx.deps.fs, p.backup, { keepObjects: false });
    const live = await listAll<CrdLike>(ctx.deps.kube, collectionPath(core.crds), { labelSelector: meshCrdSelector });
    unresolved.push(...crdDifferences(live, backup.crds));
    const now = await installedNow(ctx.deps, p.namespace, p.release);
    if (!now) unresolved.push(`no Helm release ${p.release} in ${p.namespace} to check the settings on`);
    else unresolved.push(...valueDifferences(p.values, now.values).map((d) => `release ${p.release}: ${d}`));
    ctx.progress(
      `control plane ${report.controlPlane.version}; ${report.pods} injected pods ${JSON.stringify(report.byVersion)}; ${objects} custom resources, ${backup.crds.length} CRDs and the release values checked`,
    );
    return { data: { controlPlane: report.controlPlane.version, byVersion: report.byVersion, objects }, unresolved };
  },
};
