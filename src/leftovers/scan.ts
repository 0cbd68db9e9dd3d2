/**
 * Reads what classifyLeftovers (leftovers.ts) needs: the mesh's webhook configurations and
 * APIServices and whether their services exist, the mesh CRDs, the SPIRE volumes of the mesh
 * namespace, csi-driver-sentinel Jobs anywhere, and the terminating namespaces that held a mesh
 * (with the objects whose finalizers hold them). Reads only.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath, type ResourceRef } from '../kube/paths.ts';
import { meshReleasesEverywhere } from './mesh-traces.ts';
import { sentinelJob } from '../controlplane/sentinel.ts';
import { classifyLeftovers, meshApiGroups, meshCrdNames } from './leftovers.ts';
import type { Holder, Leftover, LeftoverScan, ScanContext } from './types.ts';
import { remainingResources } from './namespaces.ts';
import { meshEvidence, partOfLabel } from './mesh-ownership.ts';

export const leftoverRefs = {
  mutatingwebhookconfigurations: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  validatingwebhookconfigurations: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  apiservices: core.apiServices,
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  pvcs: { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
} as const satisfies Record<string, ResourceRef>;

const notFound = (err: unknown) => err instanceof KubeApiError && err.status === 404;

async function getOrUndefined<T>(deps: Pick<Deps, 'kube'>, path: string): Promise<T | undefined> {
  try {
    return await deps.kube.request<T>({ path });
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}

/** The API path of a namespaced resource named by group and plural (the version the server prefers). */
async function resourceRef(deps: Pick<Deps, 'kube'>, group: string, plural: string): Promise<ResourceRef | undefined> {
  if (group === '') return { group, version: 'v1', plural, namespaced: true };
  const g = await getOrUndefined<{ preferredVersion?: { version?: string } }>(deps, `/apis/${group}`);
  const version = g?.preferredVersion?.version;
  return version ? { group, version, plural, namespaced: true } : undefined;
}

/** The objects of a terminating namespace whose finalizers hold it, among the resources its conditions say remain. */
async function finalizerHolders(
  deps: Pick<Deps, 'kube'>,
  ns: KubeObject & { status?: { conditions?: { type: string; message?: string }[] } },
): Promise<Holder[]> {
  const name = ns.metadata!.name!;
  const remaining = ns.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining')?.message ?? '';
  const holders: Holder[] = [];
  for (const r of remainingResources(remaining)) {
    const ref = await resourceRef(deps, r.group, r.resource).catch(() => undefined);
    if (!ref) continue;
    const items = await listAll(deps.kube, collectionPath(ref, name)).catch(() => []);
    for (const o of items) {
      const fin = (o.metadata?.finalizers as string[] | undefined) ?? [];
      if (o.metadata?.deletionTimestamp && fin.length)
        holders.push({
          path: objectPath(ref, o.metadata.name!, name),
          name: o.metadata.name!,
          uid: o.metadata.uid as string | undefined,
          resource: r.group ? `${r.resource}.${r.group}` : r.resource,
          finalizers: fin,
        });
    }
  }
  return holders;
}

/**
 * What says a mesh lived in this namespace: its mesh-chart Helm releases, else objects of a mesh CRD
 * still in it (its conditions name them: SpiffeIDs the registrar's finalizer holds), else the first
 * kind of object labelled part-of the mesh.
 */
async function signsOfMesh(
  deps: Pick<Deps, 'kube'>,
  ns: KubeObject & { status?: { conditions?: { type: string; message?: string }[] } },
): Promise<{ releases: string[]; objects: string[] }> {
  const name = ns.metadata!.name!;
  const releases = meshReleasesEverywhere(
    await listAll(deps.kube, collectionPath(core.secrets, name), { labelSelector: 'owner=helm' }),
  );
  const remaining = remainingResources(
    ns.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining')?.message ?? '',
  ).map((r) => `${r.resource}.${r.group}`);
  const meshKinds = remaining.filter((r) => (meshCrdNames as readonly string[]).includes(r));
  if (meshKinds.length) return { releases, objects: meshKinds };
  const selector = `${partOfLabel.key}=${partOfLabel.value}`;
  for (const ref of [core.configmaps, core.secrets, leftoverRefs.services, core.jobs, core.deployments]) {
    const page = await deps.kube.request<{ items?: KubeObject[] }>({
      path: collectionPath(ref, name),
      query: { labelSelector: selector, limit: 1 },
    });
    const first = page.items?.[0]?.metadata?.name;
    if (first) return { releases, objects: [`${ref.plural}/${first}`] };
  }
  return { releases, objects: [] };
}

/** Reads the cluster for classifyLeftovers. */
export async function readLeftoverScan(deps: Pick<Deps, 'kube'>, ctx: ScanContext): Promise<LeftoverScan> {
  const [mutating, validating, apiServices, crds, pvcs, statefulsets, sentinels, namespaces] = await Promise.all([
    listAll(deps.kube, collectionPath(leftoverRefs.mutatingwebhookconfigurations)),
    listAll(deps.kube, collectionPath(leftoverRefs.validatingwebhookconfigurations)),
    listAll(deps.kube, collectionPath(leftoverRefs.apiservices)),
    Promise.all(meshCrdNames.map((n) => getOrUndefined<KubeObject>(deps, objectPath(core.crds, n)))).then((l) =>
      l.filter((c): c is KubeObject => c !== undefined),
    ),
    ctx.phase === 'preflight'
      ? listAll(deps.kube, collectionPath(leftoverRefs.pvcs, ctx.namespace))
      : Promise.resolve([]),
    ctx.phase === 'preflight'
      ? listAll(deps.kube, collectionPath(core.statefulsets, ctx.namespace))
      : Promise.resolve([]),
    listAll(deps.kube, collectionPath(core.jobs), { fieldSelector: `metadata.name=${sentinelJob}` }),
    listAll<
      KubeObject & { status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] } }
    >(deps.kube, collectionPath(core.namespaces)),
  ]);
  const webhooks = [
    ...mutating.map((obj) => ({ resource: 'mutatingwebhookconfigurations' as const, obj })),
    ...validating.map((obj) => ({ resource: 'validatingwebhookconfigurations' as const, obj })),
  ];
  const meshApis = (apiServices as LeftoverScan['apiServices']).filter(
    (a) =>
      a.spec?.service?.name &&
      (meshEvidence(a, ctx) || (meshApiGroups as readonly string[]).includes(a.spec?.group ?? '')),
  );
  const named = new Set<string>();
  for (const w of webhooks)
    for (const h of (w.obj as LeftoverScan['webhooks'][number]['obj']).webhooks ?? []) {
      const s = h.clientConfig?.service;
      if (s?.name) named.add(`${s.namespace ?? 'default'}/${s.name}`);
    }
  for (const a of meshApis) named.add(`${a.spec!.service!.namespace ?? 'default'}/${a.spec!.service!.name}`);
  const services = new Set<string>();
  await Promise.all(
    [...named].map(async (key) => {
      const [ns, name] = key.split('/') as [string, string];
      if (await getOrUndefined(deps, objectPath(leftoverRefs.services, name, ns))) services.add(key);
    }),
  );
  const terminating: LeftoverScan['terminating'] = [];
  for (const ns of namespaces.filter((n) => n.status?.phase === 'Terminating')) {
    const name = ns.metadata!.name!;
    const evidence = await signsOfMesh(deps, ns);
    if (name !== ctx.namespace && !evidence.releases.length && !evidence.objects.length) continue;
    terminating.push({
      ns,
      holders: await finalizerHolders(deps, ns),
      releases: evidence.releases,
      objects: evidence.objects,
    });
  }
  return { webhooks, services, crds, apiServices: meshApis, pvcs, statefulsets, sentinels, terminating };
}

/** Reads the cluster and classifies: the leftovers found now. */
export async function scanLeftovers(deps: Pick<Deps, 'kube'>, ctx: ScanContext): Promise<Leftover[]> {
  return classifyLeftovers(await readLeftoverScan(deps, ctx), ctx);
}
