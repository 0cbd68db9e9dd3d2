/**
 * Read-only: is every backed-up object on the cluster, equal to the backup (spec, labels,
 * annotations, after the same version transforms a restore applies), with every owner reference a
 * restore keeps (those whose owner still exists with the recorded UID: owner-refs.ts)? Used by the
 * upgrade's verify step, which only reads and reports: re-creating what is missing is the restore
 * step's job.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listPages } from '../kube/list.ts';
import { collectionPath } from '../kube/paths.ts';
import { sameAsBackup } from './apply.ts';
import { checkOwners, forCreate, objectKey } from './owner-refs.ts';
import { shapeForTarget, versionOf, type TargetSchema } from './target-shape.ts';
import { verifyBackup } from './verify.ts';

export interface Difference {
  kind: string;
  namespace: string;
  name: string;
  state: 'missing' | 'differs';
}

export async function compareWithBackup(deps: Pick<Deps, 'kube' | 'fs'>, opts: { dir: string; targetMeshVersion?: string | undefined; schema?: TargetSchema | undefined }): Promise<{ objects: number; differences: Difference[] }> {
  const backup = await verifyBackup(deps.fs, opts.dir);
  const versions = { from: backup.manifest.meshVersion, to: opts.targetMeshVersion ?? null };
  const differences: Difference[] = [];
  let objects = 0;
  for (const vk of backup.kinds) {
    if (vk.objects.length === 0) continue;
    // In the shape the restore wrote them (version served by the target, accepted losses pruned).
    const transformed = vk.objects.map((o) => shapeForTarget(o, versions, opts.schema).obj);
    const owners = await checkOwners(deps.kube, transformed);
    const shaped = transformed.map((o) => forCreate(o, owners.get(objectKey(o))?.kept ?? []));
    const ref = { group: vk.row.group, version: versionOf(shaped[0]!.apiVersion) || vk.version, plural: vk.row.plural, namespaced: true };
    const live = new Map<string, KubeObject>();
    try {
      for await (const page of listPages(deps.kube, collectionPath(ref, backup.manifest.namespace ?? undefined), { limit: 500 })) {
        for (const o of page) live.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
      }
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err; // the kind is not served: every object is missing
    }
    for (const obj of shaped) {
      objects++;
      const key = `${obj.metadata!.namespace}/${obj.metadata!.name}`;
      const l = live.get(key);
      if (!l || !sameAsBackup(l, obj)) differences.push({ kind: obj.kind!, namespace: obj.metadata!.namespace!, name: obj.metadata!.name!, state: l ? 'differs' : 'missing' });
    }
  }
  return { objects, differences };
}
