/**
 * The objects an upgrade backs up, against the CRD schemas of every hop's target (issue 17):
 * - the preflight checks the objects as they are now (what the backup will hold), listed and
 *   cleaned as the backup does, transformed as the restore will (backup/transforms.ts), and
 *   refuses (exit 3) an object a target would reject, or one that would lose a field unless
 *   --accept-pruning accepts the losses it names;
 * - the backup step writes the same report for the objects it saved: hop<N>/schema-report.json.
 * With --accept-pruning (Plan.acceptPruning) the restore drops the listed fields and verify expects
 * them gone (backup/target-shape.ts).
 * A target's CRDs are the tool's shipped ones (mesh/crd-schemas.ts), or on the helm path with a
 * local --chart, that chart's own crds/.
 */
import path from 'node:path';
import { loadAll } from 'js-yaml';
import type { Deps } from '../../deps.ts';
import type { KubeObject } from '../../kube/client.ts';
import { listPages } from '../../kube/list.ts';
import { collectionPath } from '../../kube/paths.ts';
import { planKinds } from '../../backup/backup.ts';
import { verifyBackup } from '../../backup/verify.ts';
import { writeFileAtomic } from '../../backup/write.ts';
import { sanitizeForCreate } from '../../backup/sanitize.ts';
import { transformForRestore } from '../../backup/transforms.ts';
import { checkObject, describeCheck, type SchemaCheck } from '../../backup/schema-check.ts';
import type { TargetSchema } from '../../backup/target-shape.ts';
import { crdData } from '../../mesh/crd-data-gen.ts';
import { crdsForVersion, type CrdData } from '../../mesh/crd-schemas.ts';
import { kindsForRelease } from '../../mesh/catalog.ts';
import type { Hop, Plan } from '../types.ts';

/** Where a hop's target CRDs come from, and them (undefined: none known for that version). */
export async function targetCrds(
  deps: Pick<Deps, 'fs'>,
  plan: Pick<Plan, 'method'>,
  hop: Pick<Hop, 'to' | 'steps'>,
): Promise<{ source: string; crds: CrdData[] } | undefined> {
  const step = hop.steps.find((s) => s.kind === 'deploy' || s.kind === 'upgrade');
  const chart = step && 'chart' in step.params ? step.params.chart : undefined;
  // A local chart directory (helm path): its own crds/, as helm install and the apply-crds step use them.
  if (plan.method === 'helm' && chart?.ref && !chart.version) {
    const dir = path.join(chart.ref, 'crds');
    try {
      const files = (await deps.fs.readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
      const docs = (
        await Promise.all(files.map(async (f) => loadAll(await deps.fs.readFile(path.join(dir, f), 'utf8'))))
      ).flat() as { kind?: string }[];
      return {
        source: `chart ${chart.ref}`,
        crds: docs.filter((d) => d?.kind === 'CustomResourceDefinition').map((d) => crdData(d)),
      };
    } catch {
      /* a .tgz or no crds/: the shipped CRDs of the version */
    }
  }
  const crds = crdsForVersion(hop.to);
  return crds ? { source: `NSM ${hop.to}`, crds } : undefined;
}

/** What restore and verify shape objects by (target-shape.ts): the hop's target CRDs, and whether the plan accepts losses. */
export async function targetSchemaFor(deps: Pick<Deps, 'fs'>, plan: Plan, hop: Hop): Promise<TargetSchema | undefined> {
  const t = await targetCrds(deps, plan, hop);
  return t ? { crds: t.crds, acceptPruning: plan.acceptPruning ?? false } : undefined;
}

/** Every object of the catalog's kinds now, in all namespaces, cleaned as the backup cleans them. */
export async function liveCatalogObjects(deps: Deps, meshVersion: string): Promise<KubeObject[]> {
  const { plans } = await planKinds(deps, []);
  const rows = new Set(kindsForRelease(meshVersion).map((k) => k.kind));
  const out: KubeObject[] = [];
  for (const p of plans) {
    if (!p.version || !rows.has(p.row.kind)) continue;
    for await (const page of listPages(
      deps.kube,
      collectionPath({ group: p.row.group, version: p.version, plural: p.row.plural, namespaced: true }),
      { limit: 500 },
    )) {
      out.push(
        ...page.map((item) =>
          sanitizeForCreate({ ...item, apiVersion: `${p.row.group}/${p.version}`, kind: p.row.kind }),
        ),
      );
    }
  }
  return out;
}

export interface HopSchemaReport {
  hop: number;
  to: string;
  source: string;
  counts: Record<SchemaCheck['verdict'] | 'converted', number>;
  items: Omit<SchemaCheck, 'result'>[];
}

/** Pure: the objects (as backed up from `from`) against one hop's target CRDs. */
export function schemaReport(
  objects: readonly KubeObject[],
  from: string,
  hop: Pick<Hop, 'index' | 'to'>,
  target: { source: string; crds: CrdData[] },
): HopSchemaReport {
  const items = objects.map((o) => {
    const { result: _result, ...rest } = checkObject(transformForRestore(o, { from, to: hop.to }).obj, target.crds);
    return rest;
  });
  const counts = { valid: 0, pruned: 0, rejected: 0, converted: 0 };
  for (const i of items) {
    counts[i.verdict]++;
    if (i.converted) counts.converted++;
  }
  return { hop: hop.index, to: hop.to, source: target.source, counts, items };
}

export interface SchemaFailure {
  check: 'schemas';
  message: string;
  fix: string;
}

/** Pure: the preflight's failures from the reports: every rejection, and every loss unless accepted. One per object (its first hop). */
export function schemaFailures(reports: readonly HopSchemaReport[], acceptPruning: boolean): SchemaFailure[] {
  const seen = new Set<string>();
  const out: SchemaFailure[] = [];
  for (const r of reports) {
    for (const i of r.items) {
      const key = `${i.kind}/${i.namespace}/${i.name}`;
      if (seen.has(key) || i.verdict === 'valid' || (i.verdict === 'pruned' && acceptPruning)) continue;
      seen.add(key);
      const ref = `${i.kind.toLowerCase()} ${i.name} -n ${i.namespace}`;
      out.push(
        i.verdict === 'rejected'
          ? {
              check: 'schemas',
              message: `hop ${r.hop}: ${r.source}'s schema rejects ${describeCheck({ ...i, result: {} })}`,
              fix: `fix the object (kubectl edit ${ref}) or delete it: it cannot be restored as it is`,
            }
          : {
              check: 'schemas',
              message: `hop ${r.hop}: ${describeCheck({ ...i, result: {} })}`,
              fix: `remove those fields (kubectl edit ${ref}), or pass --accept-pruning to accept the loss`,
            },
      );
    }
  }
  return out;
}

/** The preflight check: the live objects against every hop's target. */
export async function checkBackupSchemas(deps: Deps, input: { plan: Plan }): Promise<SchemaFailure[]> {
  const { plan } = input;
  if (plan.hops.length === 0) return [];
  const objects = await liveCatalogObjects(deps, plan.from);
  const reports: HopSchemaReport[] = [];
  for (const hop of plan.hops) {
    const target = await targetCrds(deps, plan, hop);
    if (target) reports.push(schemaReport(objects, plan.from, hop, target));
  }
  return schemaFailures(reports, plan.acceptPruning ?? false);
}

/** The backup step's report: the objects it saved against this hop's target, as hop<N>/schema-report.json. */
export async function writeBackupSchemaReport(
  deps: Deps,
  plan: Plan,
  hop: Hop,
  dir: string,
): Promise<HopSchemaReport | undefined> {
  const target = await targetCrds(deps, plan, hop);
  if (!target) return undefined;
  const backup = await verifyBackup(deps.fs, dir, { keepObjects: true });
  const report = schemaReport(
    backup.kinds.flatMap((k) => k.objects),
    hop.from,
    hop,
    target,
  );
  await writeFileAtomic(deps.fs, dir, 'schema-report.json', JSON.stringify(report, null, 2) + '\n');
  return report;
}
