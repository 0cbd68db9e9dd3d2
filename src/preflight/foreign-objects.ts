/**
 * The preflight's check of what a removal would delete that is not the mesh's. nginx-meshctl remove
 * deletes the mesh namespace (vendor source, commands/remove.go postHelmCleanup; the tool finishes
 * that deletion when a remove left it: mesh-traces.ts finishRemoval), and everything in it goes with
 * it. So before a plan with such a removal (a manual hop of an nginx-meshctl install) the check lists
 * every object of the namespace (every namespaced kind the server serves that can be listed and
 * deleted; Events aside) and judges each (namespace-objects.ts):
 * - an object that is not the mesh's refuses the run (exit 3), named with what it owns, unless the
 *   user accepts its deletion with --delete-foreign-objects;
 * - an object holding a finalizer that neither the mesh nor Kubernetes itself removes (a cloud
 *   load balancer's `service.kubernetes.io/load-balancer-cleanup`, an operator's) ALWAYS refuses,
 *   naming the controller: the namespace deletion would wait on it, leaving the run stopped with the
 *   mesh removed;
 * - a kind the tool cannot list (forbidden, or its API unavailable) refuses too: what it holds is
 *   unknown, and an unavailable API stalls the namespace deletion as well (one served by an
 *   APIService of the mesh's own is the leftover check's: it names it, --clean-leftovers clears it).
 * The helm path uninstalls the release only (the namespace and what else is in it stay) and an
 * in-place upgrade deletes only objects of the mesh's own release, so neither is checked.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { discover, getResourceList } from '../kube/discovery.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, objectPath } from '../kube/paths.ts';
import { formatCommand } from '../exec/runner.ts';
import { describeFinalizers, meshEvidence, noEvidence } from '../leftovers/mesh-ownership.ts';
import { leftoverRefs } from '../leftovers/scan.ts';
import { classifyNamespaceObjects, describeForeign, type NamespaceItem } from '../leftovers/namespace-objects.ts';
import type { Plan } from '../engine/types.ts';

type Failure = { check: 'foreign-objects'; message: string; fix: string };
const apiServiceRef = leftoverRefs.apiservices;

/** The steps of the plan that delete the mesh namespace: nginx-meshctl remove (its own hops only). */
export function namespaceRemovals(plan: Pick<Plan, 'hops'>): string[] {
  return plan.hops
    .filter((h) => h.method === 'meshctl')
    .flatMap((h) => h.steps.filter((s) => s.kind === 'remove').map((s) => s.id));
}

/** Every object of the namespace, by kind, and the kinds that could not be listed. */
export async function readNamespaceObjects(
  deps: Pick<Deps, 'kube'>,
  namespace: string,
): Promise<{ items: NamespaceItem[]; unlisted: { resource: string; why: string }[] }> {
  const [groups, core] = await Promise.all([discover(deps.kube), getResourceList(deps.kube, 'v1')]);
  const served = [
    ...core.resources
      .filter((r) => !r.name.includes('/'))
      .map((r) => ({
        group: '',
        version: 'v1',
        plural: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        verbs: r.verbs ?? [],
      })),
    ...groups.resources,
  ].filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete') && r.plural !== 'events');
  // An API of the mesh's own APIService that does not answer holds nothing of anyone else's (the leftover check names it).
  const unlisted = (
    await Promise.all(
      groups.failed.map(async (f) => {
        const [group, version] = f.groupVersion.split('/') as [string, string];
        const api = await deps.kube
          .request<KubeObject>({ path: objectPath(apiServiceRef, `${version}.${group}`) })
          .catch(() => undefined);
        return api && meshEvidence(api)
          ? []
          : [{ resource: f.groupVersion, why: `its API is unavailable (${f.error})` }];
      }),
    )
  ).flat();
  const seen = new Set<string>();
  const items: NamespaceItem[] = [];
  await Promise.all(
    served.map(async (r) => {
      const resource = r.group ? `${r.plural}.${r.group}` : r.plural;
      try {
        for (const obj of await listAll(deps.kube, collectionPath(r, namespace))) {
          const uid = obj.metadata?.uid as string | undefined;
          // A kind served at several versions lists the same objects at each.
          if (uid && seen.has(uid)) continue;
          if (uid) seen.add(uid);
          items.push({ resource, kind: r.kind, obj });
        }
      } catch (err) {
        if (!(err instanceof KubeApiError)) throw err;
        if (err.status === 404) return; // the kind went away meanwhile
        unlisted.push({ resource, why: err.status === 403 ? 'forbidden' : err.message });
      }
    }),
  );
  return { items, unlisted };
}

/** The preflight check (see the header). */
export async function checkForeignObjects(deps: Deps, { plan }: { plan: Plan }): Promise<Failure[]> {
  const removals = namespaceRemovals(plan);
  if (removals.length === 0) return [];
  const ns = plan.namespace;
  const by = `${removals.join(', ')} (nginx-meshctl remove deletes namespace ${ns} and everything in it)`;
  const { items, unlisted } = await readNamespaceObjects(deps, ns);
  const verdict = classifyNamespaceObjects(items, { namespace: ns, release: plan.release });
  const name = (i: NamespaceItem) => `${i.kind} ${ns}/${i.obj.metadata?.name ?? ''}`;
  const failures: Failure[] = [
    ...verdict.finalizers.map(({ item, finalizers }) => ({
      check: 'foreign-objects' as const,
      message: `${name(item)} has finalizer ${describeFinalizers(finalizers)}: after ${by}, the namespace deletion would wait on it, and the run would stop with the mesh removed`,
      fix: `move it out of ${ns} before upgrading (or let its controller finish and remove the finalizer); --delete-foreign-objects does not accept this`,
    })),
    ...unlisted.map((u) => ({
      check: 'foreign-objects' as const,
      message: `cannot list ${u.resource} in ${ns} (${u.why}): the tool cannot tell whether ${by} would delete something that is not the mesh's`,
      fix:
        u.why === 'forbidden'
          ? `grant list on ${u.resource} (manifests/rbac/clusterrole.yaml lists the built-in kinds), then run again`
          : 'make that API available (or remove its APIService), then run again',
    })),
  ];
  const foreign = verdict.foreign.filter((f) => !verdict.finalizers.some((x) => x.item === f.item));
  if (plan.deleteForeignObjects) {
    if (foreign.length)
      deps.log.warn(
        `--delete-foreign-objects: ${removals.join(', ')} will delete with namespace ${ns} what is not the mesh's: ${foreign.map(describeForeign).join('; ')}`,
      );
    return failures;
  }
  return [
    ...failures,
    ...foreign.map((f) => ({
      check: 'foreign-objects' as const,
      message: `${describeForeign(f)} is not the mesh's (${noEvidence({ namespace: ns, release: plan.release })}, and no object of the mesh owns it): ${by}`,
      fix: `move it to another namespace (${formatCommand({ bin: 'kubectl', args: ['get', f.item.resource, f.item.obj.metadata?.name ?? '', '-n', ns, '-o', 'yaml'] })} shows it)${'rollback' in plan ? '' : ', or pass --delete-foreign-objects to accept its deletion'}`,
    })),
  ];
}
