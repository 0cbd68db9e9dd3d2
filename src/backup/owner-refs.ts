/**
 * What a restore does with the owner references and finalizers the backup recorded (sanitize.ts
 * keeps them in annotations, so the files stay `kubectl create -f` ready).
 *
 *   checkOwners(kube, objects): Promise<Map<key, OwnerVerdict>>   read-only
 *   forCreate(obj, kept): the object to create, with the kept owner references and without the records
 *
 * An owner reference names its owner by UID. One is set again only when its owner still exists
 * with that UID (looked up through discovery, so any API kind can own an object): a reference to
 * an owner that is gone or was re-created would make the garbage collector delete the restored
 * object. Every other one is dropped and reported with why; an owner that cannot be checked
 * (RBAC, an API error) is dropped too, for the same reason. Finalizers are never set again: a
 * running controller adds its own back when it reconciles, and one whose controller is gone would
 * block the object's deletion forever; each is reported.
 */
import { createLimiter } from '../concurrency.ts';
import { KubeApiError, type Kube, type KubeObject } from '../kube/client.ts';
import { assertSafeName, objectPath, type ResourceRef } from '../kube/paths.ts';
import { recordedAnnotations, recordedMetadata } from './sanitize.ts';

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** An owner reference of the backup that the restore does not set again, and why. */
export interface DroppedOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  reason: string;
}

export interface OwnerVerdict {
  kept: OwnerRef[];
  dropped: DroppedOwner[];
  /** Finalizers the backup recorded, not set again. */
  finalizers: string[];
  /** Records (annotations) that are not what a backup writes: reported, never followed. */
  unreadable: string[];
}

const [ownersRecord, finalizersRecord] = [recordedMetadata[0].annotation, recordedMetadata[1].annotation];

export const objectKey = (o: KubeObject): string => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;

const annotationsOf = (o: KubeObject) => o.metadata?.annotations ?? {};

function parseList(text: string | undefined): unknown[] | undefined {
  if (text === undefined) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const isOwnerRef = (r: unknown): r is OwnerRef => {
  const o = r as Record<string, unknown> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    ['apiVersion', 'kind', 'name', 'uid'].every((k) => typeof o[k] === 'string' && o[k] !== '')
  );
};

/** The records of one backed-up object; a record that is not what sanitize.ts writes is reported, never followed. */
export function recordsOf(o: KubeObject): { owners: OwnerRef[]; finalizers: string[]; unreadable: string[] } {
  const owners = parseList(annotationsOf(o)[ownersRecord]);
  const finalizers = parseList(annotationsOf(o)[finalizersRecord]);
  const unreadable = [
    ...(owners && owners.every(isOwnerRef) ? [] : [ownersRecord]),
    ...(finalizers && finalizers.every((f) => typeof f === 'string') ? [] : [finalizersRecord]),
  ];
  return {
    owners: owners?.every(isOwnerRef) ? owners : [],
    finalizers: (finalizers ?? []).filter((f): f is string => typeof f === 'string'),
    unreadable,
  };
}

/** Only the fields of an owner reference (the API refuses others under fieldValidation=Strict). */
const pickOwnerRef = (r: OwnerRef): OwnerRef => ({
  apiVersion: r.apiVersion,
  kind: r.kind,
  name: r.name,
  uid: r.uid,
  ...(typeof r.controller === 'boolean' ? { controller: r.controller } : {}),
  ...(typeof r.blockOwnerDeletion === 'boolean' ? { blockOwnerDeletion: r.blockOwnerDeletion } : {}),
});

/** The object to create: the kept owner references set, the tool's records removed. */
export function forCreate(o: KubeObject, kept: readonly OwnerRef[]): KubeObject {
  const annotations = { ...annotationsOf(o) };
  for (const k of recordedAnnotations) delete annotations[k];
  const { annotations: _a, ownerReferences: _o, ...meta } = (o.metadata ?? {}) as Record<string, unknown>;
  return {
    ...o,
    metadata: {
      ...meta,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ...(kept.length ? { ownerReferences: kept.map(pickOwnerRef) } : {}),
    },
  };
}

/** An apiVersion's kinds, from discovery, or why they are not known. */
type Kinds = Map<string, ResourceRef> | string;

const segment = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const cannotCheck = 'a reference to an owner that is gone would make the garbage collector delete the object';

/** apiVersion -> kind -> resource: any API kind can own an object. */
async function kindsOf(kube: Kube, apiVersion: string): Promise<Kinds> {
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash === -1 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  if (!segment.test(version) || (group !== '' && !segment.test(group)))
    return `the backup names the owner's apiVersion ${JSON.stringify(apiVersion)}, which is not one`;
  try {
    const list = await kube.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>({
      path: group ? `/apis/${group}/${version}` : `/api/${version}`,
    });
    const out = new Map<string, ResourceRef>();
    for (const r of list.resources)
      if (!r.name.includes('/')) out.set(r.kind, { group, version, plural: r.name, namespaced: r.namespaced });
    return out;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404)
      return `the API ${apiVersion} of its owner is not served any more`;
    return `discovery of ${apiVersion} failed (${String((err as Error).message).slice(0, 200)}); ${cannotCheck}`;
  }
}

/** Why the owner `r` of an object in `namespace` is not set again, or undefined when it still exists with its UID. */
async function ownerGoneReason(kube: Kube, kinds: Kinds, r: OwnerRef, namespace: string): Promise<string | undefined> {
  if (typeof kinds === 'string') return kinds;
  const ref = kinds.get(r.kind);
  if (!ref) return `its owner's kind ${r.kind} is not served any more in ${r.apiVersion}`;
  let path: string;
  try {
    path = objectPath(ref, assertSafeName(r.name, 'owner name'), namespace);
  } catch {
    return `the backup names the owner with an invalid name ${JSON.stringify(r.name)}`;
  }
  try {
    const owner = await kube.request<KubeObject>({ path });
    const uid = (owner.metadata as { uid?: string } | undefined)?.uid;
    return uid === r.uid
      ? undefined
      : `the owner ${r.kind} ${r.name} was re-created (UID ${uid}, the backup's ${r.uid}): a new object is not the owner the backup recorded`;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return `the owner ${r.kind} ${r.name} no longer exists`;
    return `the owner ${r.kind} ${r.name} could not be looked up (${String((err as Error).message).slice(0, 200)}); ${cannotCheck}`;
  }
}

/** What checkOwners looked up, kept across its calls (a restore checks a backup part by part). */
export interface OwnerLookups {
  kindLists: Map<string, Promise<Kinds>>;
  lookups: Map<string, Promise<string | undefined>>;
}

export const newOwnerLookups = (): OwnerLookups => ({ kindLists: new Map(), lookups: new Map() });

/**
 * Decides, per backed-up object (keyed by `objectKey`), which recorded owner references come
 * back. Read-only: one discovery request per apiVersion and one GET per distinct owner (per
 * `cache`, when the caller passes one across calls).
 */
export async function checkOwners(
  kube: Kube,
  objects: readonly KubeObject[],
  concurrency = 8,
  cache: OwnerLookups = newOwnerLookups(),
): Promise<Map<string, OwnerVerdict>> {
  const limit = createLimiter(concurrency);
  const { kindLists, lookups } = cache;
  const verdicts = new Map<string, OwnerVerdict>();
  await Promise.all(
    objects.map(async (o) => {
      const rec = recordsOf(o);
      if (rec.owners.length === 0 && rec.finalizers.length === 0 && rec.unreadable.length === 0) return;
      const ns = o.metadata!.namespace!;
      const v: OwnerVerdict = { kept: [], dropped: [], finalizers: rec.finalizers, unreadable: rec.unreadable };
      await Promise.all(
        rec.owners.map(async (r) => {
          if (!kindLists.has(r.apiVersion))
            kindLists.set(
              r.apiVersion,
              limit(() => kindsOf(kube, r.apiVersion)),
            );
          const kinds = await kindLists.get(r.apiVersion)!;
          const key = `${r.apiVersion}/${r.kind}/${typeof kinds !== 'string' && kinds.get(r.kind)?.namespaced ? ns : ''}/${r.name}/${r.uid}`;
          if (!lookups.has(key))
            lookups.set(
              key,
              limit(() => ownerGoneReason(kube, kinds, r, ns)),
            );
          const reason = await lookups.get(key)!;
          if (reason) v.dropped.push({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid, reason });
          else v.kept.push(r);
        }),
      );
      // Keep the backup's order (Promise.all above finishes in any order).
      v.kept.sort((a, b) => rec.owners.indexOf(a) - rec.owners.indexOf(b));
      verdicts.set(objectKey(o), v);
    }),
  );
  return verdicts;
}
