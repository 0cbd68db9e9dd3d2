/**
 * The restore report: per-object outcomes, counts, and what is left unresolved. Written as
 * restore-report.json into the backup directory and summarized on the terminal. Pure except
 * `writeRestoreReport`.
 */
import type { Deps } from '../deps.ts';
import { NotConvergedError } from '../errors.ts';
import type { ObjectResult, OnConflict, Outcome } from './apply.ts';
import { openAtomic } from './write.ts';

export interface RestoreReport {
  dir: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  dryRun: boolean;
  onConflict: OnConflict;
  backupMeshVersion: string | null;
  targetMeshVersion: string | null;
  objects: number;
  counts: Record<Outcome, number>;
  /** Objects created/unchanged/overwritten whose live copy did not match the backup afterwards. */
  verifyFailures: number;
  /** Kinds whose CRD never became Established before the deadline. */
  crdsNotEstablished: string[];
  /** The newest creationTimestamp the API server gave an object this restore created (read back by the verify pass), or null. */
  lastCreatedAt: string | null;
  missingNamespaces: string[];
  transformsApplied: Record<string, number>;
  /** Owner references of the backup not set again (each named in its object's result, with why). */
  ownersDropped: number;
  /** Finalizers of the backup not set again (each named in its object's result). */
  finalizersNotRestored: number;
  unresolved: number;
  items: ObjectResult[];
}

const resolvedOutcomes: ReadonlySet<Outcome> = new Set(['created', 'unchanged', 'overwritten']);

/** Is this object's result acceptable (restored and, unless dry-run, verified)? */
export function isResolved(r: ObjectResult, dryRun: boolean): boolean {
  return resolvedOutcomes.has(r.outcome) && (dryRun || r.verified === true);
}

/** Is this result worth showing though it is resolved: something of the backup did not come back as it was? */
export function hasNotes(r: ObjectResult): boolean {
  return Boolean(r.ownersDropped?.length || r.finalizersNotRestored?.length || r.recordsUnreadable?.length);
}

/** One line per owner reference, finalizer or record of `i` that did not come back. */
export function noteLines(i: ObjectResult): string[] {
  const what = `${i.kind} ${i.namespace}/${i.name}`;
  return [
    ...(i.ownersDropped ?? []).map(
      (d) => `owner reference dropped: ${what}: owner ${d.kind} ${d.name} (uid ${d.uid}): ${d.reason}`,
    ),
    ...(i.finalizersNotRestored?.length
      ? [
          `finalizers not set again: ${what}: ${i.finalizersNotRestored.join(', ')} (a running controller adds its own back; one whose controller is gone would block deletion forever)`,
        ]
      : []),
    ...(i.recordsUnreadable ?? []).map(
      (a) => `record not readable: ${what}: annotation ${a} is not what a backup writes; not followed`,
    ),
  ];
}

export function summarize(
  items: ObjectResult[],
  base: Omit<
    RestoreReport,
    | 'objects'
    | 'counts'
    | 'verifyFailures'
    | 'missingNamespaces'
    | 'transformsApplied'
    | 'ownersDropped'
    | 'finalizersNotRestored'
    | 'unresolved'
    | 'items'
  >,
): RestoreReport {
  const counts: Record<Outcome, number> = {
    created: 0,
    unchanged: 0,
    overwritten: 0,
    differs: 0,
    conflict: 0,
    'missing-namespace': 0,
    failed: 0,
    'not-attempted': 0,
  };
  const missing = new Set<string>();
  const transformsApplied: Record<string, number> = {};
  let verifyFailures = 0;
  let unresolved = 0;
  let ownersDropped = 0;
  let finalizersNotRestored = 0;
  for (const r of items) {
    ownersDropped += r.ownersDropped?.length ?? 0;
    finalizersNotRestored += r.finalizersNotRestored?.length ?? 0;
    counts[r.outcome]++;
    if (r.outcome === 'missing-namespace') missing.add(r.namespace);
    if (resolvedOutcomes.has(r.outcome) && !base.dryRun && r.verified === false) verifyFailures++;
    if (!isResolved(r, base.dryRun)) unresolved++;
    for (const t of r.transforms ?? []) transformsApplied[t] = (transformsApplied[t] ?? 0) + 1;
  }
  return {
    ...base,
    objects: items.length,
    counts,
    verifyFailures,
    missingNamespaces: [...missing].sort(),
    transformsApplied,
    ownersDropped,
    finalizersNotRestored,
    unresolved,
    items,
  };
}

/** Human summary for the terminal: counts, then every unresolved object (at most `limit`). */
export function formatSummary(r: RestoreReport, limit = 50): string {
  const c = r.counts;
  const lines = [
    `${r.dryRun ? '[dry-run] ' : ''}restore from ${r.dir}: ${r.objects} objects in ${r.seconds.toFixed(1)}s`,
    `  created ${c.created}, unchanged ${c.unchanged}, overwritten ${c.overwritten}, differs ${c.differs}, conflict ${c.conflict}, missing namespace ${c['missing-namespace']}, failed ${c.failed}, not attempted ${c['not-attempted']}` +
      (r.dryRun ? '' : `, verify failures ${r.verifyFailures}`),
  ];
  for (const [id, n] of Object.entries(r.transformsApplied)) lines.push(`  transform ${id}: ${n} object(s)`);
  if (r.missingNamespaces.length)
    lines.push(`  missing namespaces (not created by restore): ${r.missingNamespaces.join(', ')}`);
  if (r.crdsNotEstablished.length)
    lines.push(`  CRDs not Established before --timeout: ${r.crdsNotEstablished.join(', ')}`);
  if (r.ownersDropped) lines.push(`  owner references not set again: ${r.ownersDropped}`);
  if (r.finalizersNotRestored) lines.push(`  finalizers not set again: ${r.finalizersNotRestored}`);
  const notes = r.items.flatMap(noteLines);
  for (const l of notes.slice(0, limit)) lines.push(`  ${l}`);
  if (notes.length > limit)
    lines.push(`  ... and ${notes.length - limit} more owner/finalizer notes (see restore-report.json)`);
  const bad = r.items.filter((i) => !isResolved(i, r.dryRun));
  for (const i of bad.slice(0, limit))
    lines.push(`  ${i.outcome}: ${i.kind} ${i.namespace}/${i.name}${i.detail ? `: ${i.detail}` : ''}`);
  if (bad.length > limit) lines.push(`  ... and ${bad.length - limit} more (see restore-report.json)`);
  lines.push(r.unresolved === 0 ? '  all objects restored and verified' : `  ${r.unresolved} object(s) unresolved`);
  return lines.join('\n') + '\n';
}

export const reportFile = 'restore-report.json';

/** Written in pieces, one object's result a line: the report of 100,000 objects never is one string. */
export async function writeRestoreReport(fs: Deps['fs'], r: RestoreReport): Promise<void> {
  const { items, ...head } = r;
  const w = await openAtomic(fs, r.dir, reportFile);
  try {
    await w.write(`${JSON.stringify(head, null, 1).replace(/\n}$/, '')},\n "items": [`);
    for (let i = 0; i < items.length; i += 1000)
      await w.write(
        `${i ? ',' : ''}\n  ${items
          .slice(i, i + 1000)
          .map((x) => JSON.stringify(x))
          .join(',\n  ')}`,
      );
    await w.write(`${items.length ? '\n ' : ''}]\n}\n`);
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Throws NotConvergedError (exit 4) when anything is unresolved. */
export function assertRestored(r: RestoreReport): void {
  if (r.unresolved > 0) {
    throw new NotConvergedError(
      `restore left ${r.unresolved} object(s) unresolved (details in ${r.dir}/${reportFile})`,
      r.counts.differs > 0
        ? 'Use --on-conflict overwrite to replace objects that differ from the backup.'
        : 'Fix the cause shown above, then run restore again: it is idempotent.',
    );
  }
}
