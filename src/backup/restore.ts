/**
 * Restoring a backup directory.
 *
 *   restoreBackup(deps, { dir, onConflict, dryRun, timeoutMs, concurrency, targetMeshVersion? }): Promise<RestoreReport>
 *
 * 1. verifyBackup: any hostile or damaged file -> UsageError (exit 2), nothing applied.
 * 2. Version transforms (transforms.ts) from the backup's mesh version to the target's; the owner
 *    references the backup recorded are looked up, and only those whose owner still exists with
 *    the same UID are set again (owner-refs.ts); each other one, and each finalizer, is reported.
 * 3. Per kind, concurrently: wait for its CRD to be Established (watch), then create its objects
 *    through one shared limit of `concurrency` requests (apply.ts: retries, conflict policy;
 *    dry-run = server-side dryRun=All). Objects in namespaces that do not exist are reported.
 * 4. Unless dry-run, list every kind again and check each object's spec, labels, annotations and
 *    the owner references it kept.
 * 5. Write restore-report.json into the backup directory and return the report. The caller
 *    decides the exit: `assertRestored(report)` throws NotConvergedError (exit 4) when
 *    `report.unresolved > 0`.
 */
import type { Deps } from '../deps.ts';
import { ExitCode, ToolError } from '../errors.ts';
import { listPages } from '../kube/list.ts';
import { collectionPath, core, type ResourceRef } from '../kube/paths.ts';
import { resourceName } from '../mesh/catalog.ts';
import { restoreObject, sameAsBackup, type ObjectResult, type OnConflict } from './apply.ts';
import { waitForCrdEstablished } from './crd-wait.ts';
import { createLimiter } from '../concurrency.ts';
import { checkOwners, forCreate, objectKey, type OwnerVerdict } from './owner-refs.ts';
import { summarize, writeRestoreReport, type RestoreReport } from './report.ts';
import { shapeForTarget, versionOf, type Shaped, type TargetSchema } from './target-shape.ts';
import { verifyBackup, type VerifiedKind } from './verify.ts';

export interface RestoreOptions {
  dir: string;
  onConflict: OnConflict;
  dryRun: boolean;
  timeoutMs: number;
  concurrency: number;
  /** The mesh version restored into, when known (drives transforms; else the objects' shape does). */
  targetMeshVersion?: string | undefined;
  /** Only these catalog kinds (default: every kind the backup holds); a rollback leaves out the kinds the old CRDs lack. */
  kinds?: readonly string[] | undefined;
  /** Ctrl-C or SIGTERM: stops waits and retries; what was not restored is reported, then RestoreInterrupted is thrown. */
  signal?: AbortSignal | undefined;
  /** The target's CRDs: objects are written with a version it serves (conversions reported), and accepted losses pruned (target-shape.ts). */
  schema?: TargetSchema | undefined;
}

/** The restore stopped on a signal; its report (with what was and was not restored) is written. */
export class RestoreInterrupted extends ToolError {
  readonly report: RestoreReport;
  constructor(report: RestoreReport) {
    const done = report.items.filter((i) => i.outcome === 'created' || i.outcome === 'unchanged' || i.outcome === 'overwritten').length;
    super(`the restore was interrupted: ${done} of ${report.items.length} object(s) restored, the rest not attempted (report in ${report.dir})`, ExitCode.failed,
      'Run the same restore again: objects already restored are recognized as unchanged.');
    this.report = report;
  }
}

interface Prepared { vk: VerifiedKind; ref: ResourceRef; objects: Shaped[] }

/**
 * Namespaces a create can go into (Active ones; a Terminating namespace refuses new objects),
 * or undefined when they cannot be listed (then the creates' errors tell us).
 */
async function existingNamespaces(deps: Deps): Promise<Set<string> | undefined> {
  try {
    const names = new Set<string>();
    for await (const page of listPages(deps.kube, collectionPath(core.namespaces), { limit: 500 })) {
      for (const n of page) if ((n.status as { phase?: string } | undefined)?.phase !== 'Terminating') names.add(n.metadata!.name!);
    }
    return names;
  } catch (err) {
    deps.log.debug(`cannot list namespaces (${(err as Error).message}); relying on create errors`);
    return undefined;
  }
}

/**
 * Lists a kind and marks each result verified or not against the backed-up object, page by page:
 * memory holds one page of live objects, not the whole kind (a restore of 100,000 objects).
 */
async function verifyKind(deps: Deps, p: Prepared, results: Map<string, ObjectResult>, namespace: string | null): Promise<void> {
  const restored = (key: string) => {
    const r = results.get(`${p.vk.row.kind}/${key}`);
    return r && ['created', 'unchanged', 'overwritten'].includes(r.outcome) ? r : undefined;
  };
  const backedUp = new Map(p.objects.map(({ obj }) => [`${obj.metadata!.namespace}/${obj.metadata!.name}`, obj]));
  const found = new Set<string>();
  for await (const page of listPages(deps.kube, collectionPath(p.ref, namespace ?? undefined), { limit: 500 })) {
    for (const l of page) {
      const key = `${l.metadata?.namespace}/${l.metadata?.name}`;
      const obj = backedUp.get(key);
      const r = obj && restored(key);
      if (!r) continue;
      found.add(key);
      r.verified = sameAsBackup(l, obj);
      if (!r.verified) r.detail = 'exists but its spec/labels/annotations/owner references differ from the backup after restore';
    }
  }
  for (const key of backedUp.keys()) {
    const r = restored(key);
    if (!r || found.has(key)) continue;
    r.verified = false;
    r.detail = 'not found after restore';
  }
}

/** What a restore's per-object result says about the recorded owners and finalizers (only what is there). */
function ownerReport(v: OwnerVerdict): Pick<ObjectResult, 'ownersDropped' | 'finalizersNotRestored' | 'recordsUnreadable'> {
  return { ...(v.dropped.length ? { ownersDropped: v.dropped } : {}), ...(v.finalizers.length ? { finalizersNotRestored: v.finalizers } : {}), ...(v.unreadable.length ? { recordsUnreadable: v.unreadable } : {}) };
}

export async function restoreBackup(deps: Deps, opts: RestoreOptions): Promise<RestoreReport> {
  const started = deps.clock.now();
  const deadline = started + opts.timeoutMs;
  const backup = await verifyBackup(deps.fs, opts.dir);
  const since = () => `${((deps.clock.now() - started) / 1000).toFixed(2)}s`;
  deps.log.debug(`restore: backup verified at ${since()}`);
  const ctxVersions = { from: backup.manifest.meshVersion, to: opts.targetMeshVersion ?? null };
  const prepared: Prepared[] = backup.kinds.filter((vk) => !opts.kinds || opts.kinds.includes(vk.row.kind)).map((vk) => {
    const objects = vk.objects.map((o) => shapeForTarget(o, ctxVersions, opts.schema));
    // Every object of a kind has the backup's version: written with the one the target serves.
    const version = objects[0] ? versionOf(objects[0].obj.apiVersion) || vk.version : vk.version;
    return { vk: { ...vk, version }, ref: { group: vk.row.group, version, plural: vk.row.plural, namespaced: true }, objects };
  });
  const owners = await checkOwners(deps.kube, prepared.flatMap((p) => p.objects.map((s) => s.obj)), opts.concurrency);
  const ownerNotes = new Map<string, ReturnType<typeof ownerReport>>();
  for (const p of prepared) {
    p.objects = p.objects.map((s) => {
      const v = owners.get(objectKey(s.obj));
      if (v) ownerNotes.set(objectKey(s.obj), ownerReport(v));
      return { ...s, obj: forCreate(s.obj, v?.kept ?? []) };
    });
  }
  const namespaces = await existingNamespaces(deps);
  const limit = createLimiter(opts.concurrency);
  const results = new Map<string, ObjectResult>();
  const crdsNotEstablished: string[] = [];
  let stop = false;

  await Promise.all(prepared.filter((p) => p.objects.length > 0).map(async (p) => {
    const ready = await waitForCrdEstablished(deps, resourceName(p.vk.row), p.vk.version, deadline, opts.signal);
    if (!ready && !opts.signal?.aborted) crdsNotEstablished.push(resourceName(p.vk.row));
    deps.log.debug(`restore: CRD ${resourceName(p.vk.row)} ${ready ? 'Established' : 'NOT Established'} at ${since()}`);
    await Promise.all(p.objects.map(async ({ obj, transforms, converted, pruned }) => {
      const ns = obj.metadata!.namespace!;
      const key = `${obj.kind}/${ns}/${obj.metadata!.name}`;
      const shaped = { ...(transforms.length ? { transforms } : {}), ...(converted ? { converted } : {}), ...(pruned ? { pruned } : {}), ...ownerNotes.get(key) };
      const base = { kind: obj.kind!, namespace: ns, name: obj.metadata!.name!, attempts: 0, ...shaped };
      if (opts.signal?.aborted) { results.set(key, { ...base, outcome: 'not-attempted', detail: 'interrupted' }); return; }
      if (!ready) { results.set(key, { ...base, outcome: 'failed', detail: `CRD ${resourceName(p.vk.row)} was not Established (serving ${p.vk.version}) before --timeout` }); return; }
      if (namespaces && !namespaces.has(ns)) { results.set(key, { ...base, outcome: 'missing-namespace', detail: `namespace ${ns} does not exist or is being deleted; create it, then restore again` }); return; }
      const r = await limit(async () => (stop ? { ...base, outcome: 'not-attempted' as const, detail: 'the restore stopped at a conflict (--on-conflict fail)' }
        : opts.signal?.aborted ? { ...base, outcome: 'not-attempted' as const, detail: 'interrupted' }
        : await restoreObject({ deps, ref: p.ref, onConflict: opts.onConflict, dryRun: opts.dryRun, deadline, signal: opts.signal }, obj)));
      if (r.outcome === 'conflict') stop = true;
      results.set(key, { ...r, ...shaped });
    }));
  }));

  deps.log.debug(`restore: all creates done at ${since()}`);
  if (!opts.dryRun) {
    await Promise.all(prepared.filter((p) => p.objects.length > 0 && !crdsNotEstablished.includes(resourceName(p.vk.row)))
      .map((p) => verifyKind(deps, p, results, backup.manifest.namespace)));
  }
  deps.log.debug(`restore: verified against the cluster at ${since()}`);
  const items = prepared.flatMap((p) => p.objects.map(({ obj }) => results.get(`${obj.kind}/${obj.metadata!.namespace}/${obj.metadata!.name}`)!));
  const finished = deps.clock.now();
  const report = summarize(items, {
    dir: opts.dir, startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), seconds: (finished - started) / 1000,
    dryRun: opts.dryRun, onConflict: opts.onConflict, backupMeshVersion: backup.manifest.meshVersion, targetMeshVersion: opts.targetMeshVersion ?? null, crdsNotEstablished,
  });
  await writeRestoreReport(deps.fs, report);
  if (opts.signal?.aborted) throw new RestoreInterrupted(report);
  return report;
}

