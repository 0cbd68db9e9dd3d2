/**
 * Re-creating one backed-up object, with the conflict policy. A create refused because the
 * mesh's validating webhook does not answer yet ("failed calling webhook"), with 429/5xx, a
 * connection error, or a 404 for a kind the server has not started serving yet, is retried with
 * backoff until the deadline, and is never counted as a conflict.
 */
import { createHash } from 'node:crypto';
import type { Deps } from '../deps.ts';
import type { KubeObject } from '../kube/client.ts';
import { KubeApiError, backoffMs, isRetryable } from '../kube/client.ts';
import { collectionPath, objectPath, type ResourceRef } from '../kube/paths.ts';
import type { DroppedOwner } from './owner-refs.ts';
import { jsonEqual, restorable } from './sanitize.ts';

export type OnConflict = 'skip' | 'overwrite' | 'fail';

export type Outcome =
  | 'created' // did not exist; created (or would be, in dry-run)
  | 'unchanged' // existed, equal to the backup
  | 'overwritten' // existed, differed, replaced (--on-conflict overwrite)
  | 'differs' // existed, differs, kept (--on-conflict skip): unresolved
  | 'conflict' // existed, differs, --on-conflict fail: unresolved, the restore stops
  | 'missing-namespace' // its namespace does not exist: unresolved
  | 'failed' // refused (schema, RBAC, ...) or still failing at the deadline: unresolved
  | 'not-attempted'; // the restore stopped first (--on-conflict fail): unresolved

export interface ObjectResult {
  kind: string;
  namespace: string;
  name: string;
  outcome: Outcome;
  detail?: string;
  attempts: number;
  transforms?: string[];
  verified?: boolean;
  /** Written with a version the target serves instead of the backup's: "v1alpha1 -> v1alpha2". */
  converted?: string;
  /** Fields dropped because the target's schema does not declare them (--accept-pruning). */
  pruned?: string[];
  /** Owner references of the backup not set again (owner gone, re-created or not checkable), each with why (owner-refs.ts). */
  ownersDropped?: DroppedOwner[];
  /** Finalizers of the backup not set again: a running controller adds its own back. */
  finalizersNotRestored?: string[];
  /** The tool's records on the backed-up object that were not readable, so not followed. */
  recordsUnreadable?: string[];
}

export interface ApplyContext {
  deps: Deps;
  ref: ResourceRef;
  onConflict: OnConflict;
  dryRun: boolean;
  deadline: number;
  /** Stops the retries (Ctrl-C, SIGTERM): the object is then reported not attempted. */
  signal?: AbortSignal | undefined;
}

const retryPolicy = { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 250, maxDelayMs: 4000 };

/** Errors worth retrying until the deadline: the webhook not answering, 429/5xx, connection errors, kind not served yet. */
export function isTransient(err: unknown): boolean {
  if (isRetryable(err)) return true;
  const msg = String((err as Error)?.message ?? '');
  if (
    /failed calling webhook|no endpoints available for service|connection refused|custom resource definition is terminating/i.test(
      msg,
    )
  )
    return true;
  return err instanceof KubeApiError && err.status === 404 && !isMissingNamespace(err);
}

/** A 404 whose Status details name a namespace, or a 403 for a namespace being deleted. */
export function isMissingNamespace(err: unknown): boolean {
  if (err instanceof KubeApiError && err.status === 403 && /because it is being terminated/.test(err.message))
    return true;
  if (!(err instanceof KubeApiError) || err.status !== 404) return false;
  const details = (err.body as { details?: { kind?: string } } | undefined)?.details;
  return details?.kind === 'namespaces';
}

const ownerUids = (o: KubeObject): string[] =>
  ((o.metadata as { ownerReferences?: { uid?: string }[] } | undefined)?.ownerReferences ?? []).map((r) =>
    String(r.uid),
  );

/**
 * True when the live object's spec, labels and annotations equal the backup's and it has every
 * owner reference the backup's object carries (a restore sets those it keeps: owner-refs.ts; one
 * a controller added since is not a difference).
 */
export function sameAsBackup(live: KubeObject, backup: KubeObject): boolean {
  const a = restorable(live);
  const b = restorable(backup);
  const owners = new Set(ownerUids(live));
  return (
    jsonEqual(a.spec, b.spec) &&
    jsonEqual(a.labels, b.labels) &&
    jsonEqual(a.annotations, b.annotations) &&
    ownerUids(backup).every((u) => owners.has(u))
  );
}

function short(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 300);
}

/** Why a create or overwrite was refused; a strict-decoding refusal names the fields the schema lacks. */
export function refusalDetail(err: unknown): string {
  const msg = String((err as Error)?.message ?? err);
  const fields = [...msg.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1]!);
  if (fields.length)
    return `the server's schema for this kind has no field ${fields.join(', ')}: not restored (it stays in the backup; edit it to fit the new schema, then restore again)`;
  return short(err);
}

/** JSON with object keys sorted: equal for values jsonEqual finds equal (key order ignored). */
function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** What a restore keeps of a created object to verify it later without holding it: a hash of what sameAsBackup compares, and its owners' UIDs. */
export interface RestoredDigest {
  hash: string;
  owners?: string[];
}

export function restoredDigest(obj: KubeObject): RestoredDigest {
  const r = restorable(obj);
  const hash = createHash('sha1')
    .update(canonicalJson([r.spec, r.labels, r.annotations]))
    .digest('base64');
  const owners = ownerUids(obj);
  return owners.length ? { hash, owners } : { hash };
}

/** sameAsBackup(live, backup), given only the backup's digest. */
export function matchesDigest(live: KubeObject, d: RestoredDigest): boolean {
  if (restoredDigest(live).hash !== d.hash) return false;
  const owners = new Set(ownerUids(live));
  return (d.owners ?? []).every((u) => owners.has(u));
}

export async function restoreObject(ctx: ApplyContext, obj: KubeObject): Promise<ObjectResult> {
  const ns = obj.metadata!.namespace!;
  const name = obj.metadata!.name!;
  const res: ObjectResult = { kind: obj.kind!, namespace: ns, name, outcome: 'failed', attempts: 0 };
  // fieldValidation=Strict, as `kubectl create` does: a field the target's schema does not know is
  // refused and reported (the object stays in the backup), never dropped without a word.
  const query = { fieldValidation: 'Strict', ...(ctx.dryRun ? { dryRun: 'All' } : {}) };
  const { kube, clock } = ctx.deps;
  let lastErr: unknown;
  for (let attempt = 0; ; attempt++) {
    if (ctx.signal?.aborted)
      return {
        ...res,
        outcome: 'not-attempted',
        detail: `interrupted${lastErr ? ` while retrying: ${short(lastErr)}` : ''}`,
      };
    res.attempts++;
    try {
      await kube.request({
        method: 'POST',
        path: collectionPath(ctx.ref, ns),
        query,
        body: obj,
        noRetry: true,
        discardBody: true,
      });
      return { ...res, outcome: 'created' };
    } catch (err) {
      lastErr = err;
      if (isMissingNamespace(err))
        return {
          ...res,
          outcome: 'missing-namespace',
          detail: `namespace ${ns} does not exist or is being deleted; create it, then restore again`,
        };
      if (err instanceof KubeApiError && err.status === 409) {
        const r = await onExisting(ctx, obj, res).catch((e: unknown) =>
          isTransient(e) ? undefined : { ...res, outcome: 'failed' as const, detail: short(e) },
        );
        if (r) return r;
        // The object vanished between create and get, or changed under us: try again.
      } else if (!isTransient(err)) {
        return { ...res, outcome: 'failed', detail: refusalDetail(err) };
      }
    }
    const wait = backoffMs(attempt, retryPolicy);
    if (clock.now() + wait > ctx.deadline)
      return { ...res, outcome: 'failed', detail: `still failing at the --timeout deadline: ${short(lastErr)}` };
    await clock.sleep(wait, ctx.signal).catch(() => undefined);
  }
}

/** The object exists: compare, then apply the policy. Returns undefined to retry the create. */
async function onExisting(ctx: ApplyContext, obj: KubeObject, res: ObjectResult): Promise<ObjectResult | undefined> {
  const path = objectPath(ctx.ref, obj.metadata!.name!, obj.metadata!.namespace);
  let live: KubeObject;
  try {
    live = await ctx.deps.kube.request<KubeObject>({ path });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
  if (sameAsBackup(live, obj)) return { ...res, outcome: 'unchanged' };
  if (ctx.onConflict === 'skip')
    return {
      ...res,
      outcome: 'differs',
      detail: 'exists and differs from the backup; kept (use --on-conflict overwrite to replace it)',
    };
  if (ctx.onConflict === 'fail')
    return { ...res, outcome: 'conflict', detail: 'exists and differs from the backup (--on-conflict fail)' };
  const body = {
    ...obj,
    metadata: { ...obj.metadata, resourceVersion: (live.metadata as { resourceVersion?: string }).resourceVersion },
  };
  try {
    await ctx.deps.kube.request({
      method: 'PUT',
      path,
      body,
      query: { fieldValidation: 'Strict', ...(ctx.dryRun ? { dryRun: 'All' } : {}) },
      noRetry: true,
    });
    return { ...res, outcome: 'overwritten' };
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) return undefined; // changed or deleted meanwhile
    if (isTransient(err)) return undefined;
    return { ...res, outcome: 'failed', detail: `overwrite refused: ${refusalDetail(err)}` };
  }
}
