/**
 * The kind catalog: which custom resources hold the user's mesh configuration, where the API
 * server serves them, and which mesh releases serve which versions. Backup lists exactly these
 * kinds; restore accepts exactly these kinds (anything else in a backup is refused).
 *
 * Sources: nsm-reference/FACTS.md and the CRDs in the v1.5.0..v2.0.0 charts.
 */
import { isAtLeast, normalizeVersion } from '../version-compare.ts';

export interface CatalogKind {
  kind: string;
  group: string;
  plural: string;
  /** Versions the CRD serves, oldest first. */
  versions: readonly string[];
  /** The storage version: the one we list and create with when the server serves it. */
  storageVersion: string;
  /** First mesh release whose CRDs define this kind. */
  since: string;
  /** Cluster-scoped kinds are not backed up (none of the catalog's are). */
  namespaced: true;
  /** Why the row is here (and why its versions are what they are). */
  reason: string;
}

/** The catalog, in restore order: routes before the objects that reference them. */
export const catalog: readonly CatalogKind[] = [
  {
    kind: 'HTTPRouteGroup',
    group: 'specs.smi-spec.io',
    plural: 'httproutegroups',
    versions: ['v1alpha3'],
    storageVersion: 'v1alpha3',
    since: '1.0.0',
    namespaced: true,
    reason:
      'SMI HTTP routes referenced by TrafficTargets and TrafficSplits; spec.matches[].headers became an object in 1.5 (see backup/transforms.ts)',
  },
  {
    kind: 'TCPRoute',
    group: 'specs.smi-spec.io',
    plural: 'tcproutes',
    versions: ['v1alpha3'],
    storageVersion: 'v1alpha3',
    since: '1.0.0',
    namespaced: true,
    reason: 'SMI TCP routes referenced by TrafficTargets',
  },
  {
    kind: 'TrafficTarget',
    group: 'access.smi-spec.io',
    plural: 'traffictargets',
    versions: ['v1alpha2'],
    storageVersion: 'v1alpha2',
    since: '1.0.0',
    namespaced: true,
    reason: 'SMI access control: with access-control-mode deny, losing one silently cuts traffic',
  },
  {
    kind: 'TrafficSplit',
    group: 'split.smi-spec.io',
    plural: 'trafficsplits',
    versions: ['v1alpha3'],
    storageVersion: 'v1alpha3',
    since: '1.0.0',
    namespaced: true,
    reason: 'SMI traffic shifting (canaries, blue/green) between backends',
  },
  {
    kind: 'RateLimit',
    group: 'specs.smi.nginx.com',
    plural: 'ratelimits',
    versions: ['v1alpha1', 'v1alpha2'],
    storageVersion: 'v1alpha2',
    since: '1.0.0',
    namespaced: true,
    reason:
      'NGINX rate limits; v1alpha1 still served, v1alpha2 is the storage version since 1.2, so list and create with v1alpha2',
  },
  {
    kind: 'CircuitBreaker',
    group: 'specs.smi.nginx.com',
    plural: 'circuitbreakers',
    versions: ['v1alpha1'],
    storageVersion: 'v1alpha1',
    since: '1.0.0',
    namespaced: true,
    reason: 'NGINX circuit breakers',
  },
  {
    kind: 'MeshConfig',
    group: 'nsm.nginx.com',
    plural: 'meshconfigs',
    versions: ['v1alpha2'],
    storageVersion: 'v1alpha2',
    since: '2.0.0',
    namespaced: true,
    reason:
      '2.0 moved the runtime mesh configuration from the mesh-config ConfigMap to this CRD (object nginx-mesh-config in the mesh namespace)',
  },
];

/**
 * Mesh CRDs that are deliberately NOT in the catalog, with the reason. Restore refuses them
 * like any other unknown kind.
 */
export const notBackedUp: readonly { kind: string; group: string; reason: string }[] = [
  {
    kind: 'SpiffeID',
    group: 'spiffeid.spiffe.io',
    reason: 'managed by the mesh itself (one per workload); re-created by the control plane, not user data',
  },
  {
    kind: 'MeshConfigClass',
    group: 'nsm.nginx.com',
    reason: 'cluster-scoped class installed by the 2.0 chart, not user data',
  },
];

/** The label every mesh object carries: every template and CRD of the charts 1.5.0 to 2.0.0 (leftovers/mesh-ownership.ts). */
export const partOfLabel = { key: 'app.kubernetes.io/part-of', value: 'nginx-service-mesh' } as const;

/** The label selector of the mesh's CRDs (crds.yaml, the removals, the rollback's checks). */
export const meshCrdSelector = `${partOfLabel.key}=${partOfLabel.value}`;

/** `<plural>.<group>`: the CRD name, and the resources/ file stem. */
export function resourceName(k: Pick<CatalogKind, 'plural' | 'group'>): string {
  return `${k.plural}.${k.group}`;
}

export function findKind(kind: string, group?: string): CatalogKind | undefined {
  return catalog.find((k) => k.kind === kind && (group === undefined || k.group === group));
}

/** Finds the catalog row for an apiVersion ("group/version") and kind, or undefined (unknown kind). */
export function kindForApiVersion(apiVersion: string, kind: string): CatalogKind | undefined {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return undefined; // core kinds (Secret, ConfigMap, ...) are never in the catalog
  const group = apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const row = findKind(kind, group);
  return row && row.versions.includes(version) ? row : undefined;
}

/** The kinds a mesh release defines (all of them when the version is unknown or not a version number). */
export function kindsForRelease(meshVersion: string | undefined): readonly CatalogKind[] {
  const version = meshVersion ? normalizeVersion(meshVersion) : undefined;
  if (!version) return catalog;
  return catalog.filter((k) => isAtLeast(version, k.since));
}

/**
 * The version to list/create with: the storage version if served, else the newest served
 * version the catalog knows, else undefined (the kind is not served).
 */
export function pickVersion(k: CatalogKind, served: readonly string[]): string | undefined {
  if (served.includes(k.storageVersion)) return k.storageVersion;
  return [...k.versions].reverse().find((v) => served.includes(v));
}
