/**
 * Restoring a backup directory.
 *
 *   restoreBackup(deps, { dir, onConflict, dryRun, timeoutMs, concurrency, targetMeshVersion? }): Promise<RestoreReport>
 *
 * 1. verifyBackup, keeping no object: any hostile or damaged file -> UsageError (exit 2), nothing
 *    applied. Every document is checked before anything is created.
 * 2. Every kind's CRD is waited for (Established, watched) at once, from the start.
 * 3. Kind by kind, each file is read again part by part (verify.ts readVerifiedParts: only bytes
 *    identical to those verified), and each part's objects are shaped for the target (version
 *    transforms, target-shape.ts), their recorded owner references looked up (only those whose
 *    owner still exists with the same UID are set again; each other one, and each finalizer, is
 *    reported: owner-refs.ts) and created through `concurrency` requests in flight (apply.ts:
 *    retries, conflict policy; dry-run = server-side dryRun=All). The next part is read only when a
 *    request slot is free: memory holds a part, the requests in flight, and per object its result
 *    and a digest to verify it by (a restore of 100,000 objects, not the backup's objects).
 *    Objects in namespaces that do not exist are reported.
 * 4. Unless dry-run, list every kind again, page by page, and check each object's spec, labels,
 *    annotations and the owner references it kept against its digest (and note the newest
 *    creationTimestamp among the objects it created: the end of the policy gap, engine/window.ts).
 * 5. Write restore-report.json into the backup directory and return the report. The caller
 *    decides the exit: `assertRestored(report)` throws NotConvergedError (exit 4) when
 *    `report.unresolved > 0`.
 */
import type { Deps } from '../deps.ts';
import { ExitCode, ToolError } from '../errors.ts';
import type { KubeObject } from '../kube/client.ts';
import { listPages } from '../kube/list.ts';
import { collectionPath, core, type ResourceRef } from '../kube/paths.ts';
import { resourceName } from '../mesh/catalog.ts';
import {
  matchesDigest,
  restoredDigest,
  restoreObject,
  type ObjectResult,
  type OnConflict,
  type RestoredDigest,
} from './apply.ts';
import { waitForCrdEstablished } from './crd-wait.ts';
import { createStarter } from '../concurrency.ts';
import { checkOwners, forCreate, newOwnerLookups, objectKey, type OwnerVerdict } from './owner-refs.ts';
import { summarize, writeRestoreReport, type RestoreReport } from './report.ts';
import { shapeForTarget, versionOf, type TargetSchema } from './target-shape.ts';
import { firstVerifiedObject, readVerifiedParts, verifyBackup, type VerifiedKind } from './verify.ts';
import { collectEvery } from '../memory.ts';

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
  /** Called once per part read (default: collectEvery(collectEveryParts), src/memory.ts); a test counts the parts with it. */
  collect?: (() => void) | undefined;
}

/** Parts (of 100 documents) between two full collections: 261 MB peak at 100,000 objects instead of 317 (docs/window.md). */
export const collectEveryParts = 20;

/** The restore stopped on a signal; its report (with what was and was not restored) is written. */
export class RestoreInterrupted extends ToolError {
  readonly report: RestoreReport;
  constructor(report: RestoreReport) {
    const done = report.items.filter(
      (i) => i.outcome === 'created' || i.outcome === 'unchanged' || i.outcome === 'overwritten',
    ).length;
    super(
      `the restore was interrupted: ${done} of ${report.items.length} object(s) restored, the rest not attempted (report in ${report.dir})`,
      ExitCode.failed,
      'Run the same restore again: objects already restored are recognized as unchanged.',
    );
    this.report = report;
  }
}

/** A kind to restore: where its file is, the version it is written with, and each restored object's digest (to verify it by). */
interface KindRun {
  vk: VerifiedKind;
  ref: ResourceRef;
  ready: Promise<boolean>;
  restored: Map<string, { index: number; digest: RestoredDigest }>;
}

const restoredOutcomes = new Set(['created', 'unchanged', 'overwritten']);

/**
 * A string parsed from a part is a slice of the part's text (V8 keeps it as a view): kept in a result
 * as it is, it would keep its whole part alive, and a restore of 100,000 objects the whole backup.
 * `own` copies one; `keep` copies each kind and namespace once and shares the copy.
 */
const own = (s: string): string => JSON.parse(JSON.stringify(s)) as string;
function sharedStrings(): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    let v = seen.get(s);
    if (v === undefined) {
      v = own(s);
      seen.set(v, v);
    }
    return v;
  };
}

/**
 * Namespaces a create can go into (Active ones; a Terminating namespace refuses new objects),
 * or undefined when they cannot be listed (then the creates' errors tell us).
 */
async function existingNamespaces(deps: Deps): Promise<Set<string> | undefined> {
  try {
    const names = new Set<string>();
    for await (const page of listPages(deps.kube, collectionPath(core.namespaces), { limit: 500 })) {
      for (const n of page)
        if ((n.status as { phase?: string } | undefined)?.phase !== 'Terminating') names.add(n.metadata!.name!);
    }
    return names;
  } catch (err) {
    deps.log.debug(`cannot list namespaces (${(err as Error).message}); relying on create errors`);
    return undefined;
  }
}

/**
 * Lists a kind and marks each restored object verified or not against its digest, page by page:
 * memory holds one page of live objects and the digests, not the backed-up objects.
 */
async function verifyKind(
  deps: Deps,
  k: KindRun,
  results: ObjectResult[],
  namespace: string | null,
): Promise<string | null> {
  const found = new Set<string>();
  let lastCreated: string | null = null;
  for await (const page of listPages(deps.kube, collectionPath(k.ref, namespace ?? undefined), { limit: 500 })) {
    for (const l of page) {
      const key = `${l.metadata?.namespace}/${l.metadata?.name}`;
      const entry = k.restored.get(key);
      if (!entry) continue;
      found.add(key);
      const r = results[entry.index]!;
      r.verified = matchesDigest(l, entry.digest);
      if (!r.verified)
        r.detail = 'exists but its spec/labels/annotations/owner references differ from the backup after restore';
      const created = (l.metadata as { creationTimestamp?: string }).creationTimestamp;
      if (r.outcome === 'created' && created && (!lastCreated || Date.parse(created) > Date.parse(lastCreated)))
        lastCreated = created;
    }
  }
  for (const [key, entry] of k.restored) {
    if (found.has(key)) continue;
    const r = results[entry.index]!;
    r.verified = false;
    r.detail = 'not found after restore';
  }
  return lastCreated;
}

/** What a restore's per-object result says about the recorded owners and finalizers (only what is there). */
function ownerReport(
  v: OwnerVerdict,
): Pick<ObjectResult, 'ownersDropped' | 'finalizersNotRestored' | 'recordsUnreadable'> {
  return {
    ...(v.dropped.length ? { ownersDropped: v.dropped } : {}),
    ...(v.finalizers.length ? { finalizersNotRestored: v.finalizers } : {}),
    ...(v.unreadable.length ? { recordsUnreadable: v.unreadable } : {}),
  };
}

export async function restoreBackup(deps: Deps, opts: RestoreOptions): Promise<RestoreReport> {
  const started = deps.clock.now();
  const deadline = started + opts.timeoutMs;
  const backup = await verifyBackup(deps.fs, opts.dir, { keepObjects: false });
  const since = () => `${((deps.clock.now() - started) / 1000).toFixed(2)}s`;
  deps.log.debug(`restore: backup verified at ${since()}`);
  const ctxVersions = { from: backup.manifest.meshVersion, to: opts.targetMeshVersion ?? null };
  const shape = (o: KubeObject) => shapeForTarget(o, ctxVersions, opts.schema);
  const chosen = backup.kinds.filter((vk) => !opts.kinds || opts.kinds.includes(vk.row.kind));
  // Every object of a kind has the backup's version: written with the one the target serves (its first object's, shaped).
  const kinds: KindRun[] = await Promise.all(
    chosen
      .filter((vk) => vk.count > 0)
      .map(async (vk) => {
        const first = await firstVerifiedObject(deps.fs, opts.dir, vk);
        const version = (first && versionOf(shape(first).obj.apiVersion)) || vk.version;
        const crd = resourceName(vk.row);
        // Waited for at once, each until the deadline, as the creates of one kind never wait for another's CRD.
        const ready = waitForCrdEstablished(deps, crd, version, deadline, opts.signal).then((ok) => {
          deps.log.debug(`restore: CRD ${crd} ${ok ? 'Established' : 'NOT Established'} at ${since()}`);
          return ok;
        });
        return {
          vk: { ...vk, version },
          ref: { group: vk.row.group, version, plural: vk.row.plural, namespaced: true },
          ready,
          restored: new Map(),
        };
      }),
  );
  const namespaces = await existingNamespaces(deps);
  const starter = createStarter(opts.concurrency);
  const owners = newOwnerLookups();
  const keep = sharedStrings();
  const results: ObjectResult[] = [];
  const crdsNotEstablished: string[] = [];
  let stop = false;
  // A full collection every collectEveryParts parts: the peak stays near what is kept (src/memory.ts).
  const tick = opts.collect ?? collectEvery(collectEveryParts);

  for (const k of kinds) {
    const crd = resourceName(k.vk.row);
    const ready = await k.ready;
    if (!ready && !opts.signal?.aborted) crdsNotEstablished.push(crd);
    await readVerifiedParts(deps.fs, opts.dir, k.vk, async (objects) => {
      tick();
      // Shaped and checked for owners only while there is work to do; past an interrupt, only counted.
      const live = ready && !opts.signal?.aborted && !stop;
      const shaped = objects.map((o) => (live ? shape(o) : { obj: o, transforms: [] as string[] }));
      const verdicts = live
        ? await checkOwners(
            deps.kube,
            shaped.map((x) => x.obj),
            opts.concurrency,
            owners,
          )
        : new Map<string, OwnerVerdict>();
      for (const { obj: backedUp, transforms, converted, pruned } of shaped) {
        const v = verdicts.get(objectKey(backedUp));
        const obj = forCreate(backedUp, v?.kept ?? []);
        const ns = keep(obj.metadata!.namespace!);
        const notes = {
          ...(transforms.length ? { transforms } : {}),
          ...(converted ? { converted } : {}),
          ...(pruned ? { pruned } : {}),
          ...(v ? ownerReport(v) : {}),
        };
        // The notes name fields, versions and owners parsed from the part: copied when there are any, as `own` does.
        const shapedNotes = Object.keys(notes).length ? (JSON.parse(JSON.stringify(notes)) as typeof notes) : notes;
        const base = {
          kind: keep(obj.kind!),
          namespace: ns,
          name: own(obj.metadata!.name!),
          attempts: 0,
          ...shapedNotes,
        };
        const index = results.push({ ...base, outcome: 'not-attempted' }) - 1;
        if (opts.signal?.aborted) {
          results[index] = { ...base, outcome: 'not-attempted', detail: 'interrupted' };
          continue;
        }
        if (!ready) {
          results[index] = {
            ...base,
            outcome: 'failed',
            detail: `CRD ${crd} was not Established (serving ${k.vk.version}) before --timeout`,
          };
          continue;
        }
        if (namespaces && !namespaces.has(ns)) {
          results[index] = {
            ...base,
            outcome: 'missing-namespace',
            detail: `namespace ${ns} does not exist or is being deleted; create it, then restore again`,
          };
          continue;
        }
        if (stop) {
          results[index] = {
            ...base,
            outcome: 'not-attempted',
            detail: 'the restore stopped at a conflict (--on-conflict fail)',
          };
          continue;
        }
        await starter.start(async () => {
          const r = stop
            ? {
                ...base,
                outcome: 'not-attempted' as const,
                detail: 'the restore stopped at a conflict (--on-conflict fail)',
              }
            : opts.signal?.aborted
              ? { ...base, outcome: 'not-attempted' as const, detail: 'interrupted' }
              : await restoreObject(
                  { deps, ref: k.ref, onConflict: opts.onConflict, dryRun: opts.dryRun, deadline, signal: opts.signal },
                  obj,
                ).catch((err: unknown) => ({ ...base, outcome: 'failed' as const, detail: (err as Error).message }));
          if (r.outcome === 'conflict') stop = true;
          results[index] = { ...r, kind: base.kind, namespace: ns, name: base.name, ...shapedNotes };
          if (restoredOutcomes.has(r.outcome)) {
            // Keyed and digested with owned strings only: `${ns}/${obj.metadata.name}` would keep the name's whole part.
            const d = restoredDigest(obj);
            k.restored.set(`${ns}/${base.name}`, { index, digest: d.owners ? { ...d, owners: d.owners.map(own) } : d });
          }
        });
      }
    });
  }
  await starter.idle();

  deps.log.debug(`restore: all creates done at ${since()}`);
  // Kind after kind: a page of live objects in memory at a time.
  const lastCreated: (string | null)[] = [];
  if (!opts.dryRun)
    for (const k of kinds.filter((x) => x.restored.size > 0))
      lastCreated.push(await verifyKind(deps, k, results, backup.manifest.namespace));
  const lastCreatedAt = lastCreated.reduce<string | null>(
    (a, t) => (t && (!a || Date.parse(t) > Date.parse(a)) ? t : a),
    null,
  );
  deps.log.debug(`restore: verified against the cluster at ${since()}`);
  const finished = deps.clock.now();
  const report = summarize(results, {
    dir: opts.dir,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    seconds: (finished - started) / 1000,
    dryRun: opts.dryRun,
    onConflict: opts.onConflict,
    backupMeshVersion: backup.manifest.meshVersion,
    targetMeshVersion: opts.targetMeshVersion ?? null,
    crdsNotEstablished,
    lastCreatedAt,
  });
  await writeRestoreReport(deps.fs, report);
  if (opts.signal?.aborted) throw new RestoreInterrupted(report);
  return report;
}
