/**
 * Cleaning objects for re-creation. `sanitizeForCreate(obj)` returns a copy that
 * `kubectl create -f` (and a POST) accepts: the server-owned fields are dropped, the user's
 * labels, annotations and spec are kept, and the owner references and finalizers, which a create
 * must not carry as they are, are kept in annotations (`recordedMetadata`) for the restore to
 * decide on (owner-refs.ts). Pure: never mutates its input. The result is a new
 * object with new metadata; other nested values (spec, ...) are shared with the input, not
 * copied (backup cleans 10,000s of objects; copying them doubles its garbage).
 */
import type { KubeObject } from '../kube/client.ts';

/** metadata fields the server owns, with the reason each one must go. */
export const droppedMetadata: readonly { field: string; reason: string }[] = [
  { field: 'uid', reason: 'assigned by the server; a create with one is rejected' },
  {
    field: 'resourceVersion',
    reason: 'a create with a resourceVersion is rejected ("resourceVersion should not be set")',
  },
  { field: 'generation', reason: 'server-managed counter' },
  { field: 'creationTimestamp', reason: 'server-managed' },
  { field: 'deletionTimestamp', reason: 'would describe an object being deleted' },
  { field: 'deletionGracePeriodSeconds', reason: 'belongs with deletionTimestamp' },
  { field: 'managedFields', reason: 'server-side apply bookkeeping of the old object' },
  { field: 'selfLink', reason: 'deprecated, server-generated' },
];

/**
 * metadata kept in the backup, but as an annotation (JSON), never as itself: the files stay
 * `kubectl create -f` ready, and what comes back is the restore's decision (owner-refs.ts).
 */
export const recordedMetadata = [
  {
    field: 'ownerReferences',
    annotation: 'nsm-upgrade.nginx.com/owner-references',
    reason:
      'they name each owner by UID: created as they are, one whose owner is gone (or was re-created with another UID) makes the garbage collector delete the restored object; the restore sets again each one whose owner still exists with that UID, and reports the others',
  },
  {
    field: 'finalizers',
    annotation: 'nsm-upgrade.nginx.com/finalizers',
    reason:
      'one whose controller is gone would block the deletion forever (a later removal deleting the CRDs would hang on it); a running controller adds its own back when it reconciles the restored object; the restore reports each one it does not set again',
  },
] as const;

/** The annotations of `recordedMetadata`: the tool's bookkeeping, never compared, stripped before a create. */
export const recordedAnnotations: ReadonlySet<string> = new Set(recordedMetadata.map((r) => r.annotation));

/** Annotations that are tool bookkeeping, not user data. */
export const droppedAnnotations: readonly { key: string; reason: string }[] = [
  {
    key: 'kubectl.kubernetes.io/last-applied-configuration',
    reason: 'a copy of the old object; kubectl apply would diff against stale data',
  },
];

/** Top-level fields dropped besides metadata's. */
export const droppedTopLevel: readonly { field: string; reason: string }[] = [
  { field: 'status', reason: 'written by controllers, not by users; a create ignores or rejects it' },
];

/** Returns a clean copy of `obj` for a create. */
export function sanitizeForCreate<T extends KubeObject>(obj: T): T {
  const out: Record<string, unknown> = {};
  // apiVersion and kind first, then metadata, then the rest: stable, readable YAML.
  if (obj.apiVersion !== undefined) out.apiVersion = obj.apiVersion;
  if (obj.kind !== undefined) out.kind = obj.kind;
  const meta = { ...(obj.metadata ?? {}) } as Record<string, unknown>;
  for (const { field } of droppedMetadata) delete meta[field];
  const kept: Record<string, string> = { ...(meta.annotations as Record<string, string> | undefined) };
  for (const { key } of droppedAnnotations) delete kept[key];
  for (const { field, annotation } of recordedMetadata) {
    // A stale record (an object once created from a backup by `kubectl create -f`) gives way to what the object holds now.
    delete kept[annotation];
    const v = meta[field];
    if (Array.isArray(v) && v.length > 0) kept[annotation] = JSON.stringify(v);
    delete meta[field];
  }
  if (Object.keys(kept).length > 0) meta.annotations = kept;
  else delete meta.annotations;
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  out.metadata = meta;
  const skip = new Set(['apiVersion', 'kind', 'metadata', ...droppedTopLevel.map((d) => d.field)]);
  for (const [k, v] of Object.entries(obj)) if (!skip.has(k)) out[k] = v;
  return out as T;
}

/** Deep equality of JSON values (key order ignored), used to compare specs. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/**
 * The parts of an object a restore must reproduce: spec (or the whole body minus metadata), labels,
 * annotations (the tool's own records left out). Owner references are compared apart (apply.ts).
 */
export function restorable(obj: KubeObject): {
  spec: unknown;
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const clean = sanitizeForCreate(obj);
  const { apiVersion: _a, kind: _k, metadata, ...body } = clean;
  const annotations = { ...metadata?.annotations };
  for (const key of recordedAnnotations) delete annotations[key];
  return {
    spec: 'spec' in body ? body.spec : body,
    labels: metadata?.labels ?? {},
    annotations,
  };
}
