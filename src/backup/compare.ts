/**
 * Read-only: is every backed-up object on the cluster, equal to the backup (spec, labels,
 * annotations, after the same version transforms a restore applies), with every owner reference a
 * restore keeps (those whose owner still exists with the recorded UID: owner-refs.ts)? Used by the
 * upgrade's verify step, which only reads and reports: re-creating what is missing is the restore
 * step's job.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { listPages } from '../kube/list.ts';
import { collectionPath } from '../kube/paths.ts';
import { matchesDigest, restoredDigest, type RestoredDigest } from './apply.ts';
import { checkOwners, forCreate, newOwnerLookups } from './owner-refs.ts';
import { shapeForTarget, versionOf, type TargetSchema } from './target-shape.ts';
import { readVerifiedParts, verifyBackup } from './verify.ts';

export interface Difference {
  kind: string;
  namespace: string;
  name: string;
  state: 'missing' | 'differs';
}

/** Streams the backup kind by kind (memory: a part, and a digest per object), then lists the cluster page by page. */
export async function compareWithBackup(
  deps: Pick<Deps, 'kube' | 'fs'>,
  opts: { dir: string; targetMeshVersion?: string | undefined; schema?: TargetSchema | undefined },
): Promise<{ objects: number; differences: Difference[] }> {
  const backup = await verifyBackup(deps.fs, opts.dir, { keepObjects: false });
  const versions = { from: backup.manifest.meshVersion, to: opts.targetMeshVersion ?? null };
  const differences: Difference[] = [];
  const owners = newOwnerLookups();
  let objects = 0;
  for (const vk of backup.kinds) {
    if (vk.count === 0) continue;
    // In the shape the restore wrote them (version served by the target, accepted losses pruned).
    const expected = new Map<string, RestoredDigest>();
    let version: string | undefined;
    await readVerifiedParts(deps.fs, opts.dir, vk, async (part) => {
      const transformed = part.map((o) => shapeForTarget(o, versions, opts.schema).obj);
      const verdicts = await checkOwners(deps.kube, transformed, undefined, owners);
      for (const o of transformed) {
        const obj = forCreate(o, verdicts.get(`${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`)?.kept ?? []);
        version ??= versionOf(obj.apiVersion);
        expected.set(`${obj.metadata!.namespace}/${obj.metadata!.name}`, restoredDigest(obj));
      }
    });
    objects += expected.size;
    const ref = { group: vk.row.group, version: version || vk.version, plural: vk.row.plural, namespaced: true };
    const seen = new Set<string>();
    const note = (key: string, state: Difference['state']) => {
      const [namespace, name] = key.split('/') as [string, string];
      differences.push({ kind: vk.row.kind, namespace, name, state });
    };
    try {
      for await (const page of listPages(deps.kube, collectionPath(ref, backup.manifest.namespace ?? undefined), {
        limit: 500,
      })) {
        for (const l of page) {
          const key = `${l.metadata?.namespace}/${l.metadata?.name}`;
          const d = expected.get(key);
          if (!d) continue;
          seen.add(key);
          if (!matchesDigest(l, d)) note(key, 'differs');
        }
      }
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err; // the kind is not served: every object is missing
    }
    for (const key of expected.keys()) if (!seen.has(key)) note(key, 'missing');
  }
  return { objects, differences };
}
