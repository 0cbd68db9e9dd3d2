/** A resource type as the API server names it: group ('' for core), version, plural. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

// DNS-1123 names, plus ':' and '@' which RBAC names use ("system:openshift:scc:..."): every
// character is safe in a URL path segment; '/', '%', whitespace and '..' are not allowed.
const segment = /^[A-Za-z0-9]([-A-Za-z0-9._:@]*[A-Za-z0-9])?$/;

/** Rejects names that could change the URL path (slashes, percent escapes, dot segments, empty). */
/** A name that cannot be a Kubernetes object name (bad input: the CLI exits 2). */
export class InvalidNameError extends Error {
  constructor(what: string, value: string) {
    super(
      `invalid ${what} ${JSON.stringify(value)}: not a Kubernetes name (it starts and ends with a letter or digit, has no '/', '%', spaces or '..', and at most 253 characters)`,
    );
    this.name = 'InvalidNameError';
  }
}

export function assertSafeName(value: string, what: string): string {
  if (!segment.test(value) || value.length > 253 || value.includes('..')) throw new InvalidNameError(what, value);
  return value;
}

/** The collection path: /api/v1/pods, /apis/g/v/namespaces/ns/plural, ... */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  if (ref.namespaced && namespace) return `${root}/namespaces/${assertSafeName(namespace, 'namespace')}/${ref.plural}`;
  return `${root}/${ref.plural}`;
}

export function objectPath(ref: ResourceRef, name: string, namespace?: string): string {
  return `${collectionPath(ref, namespace)}/${assertSafeName(name, 'name')}`;
}

// Every built-in resource the tool uses is served at v1.
const namespaced = (group: string, plural: string): ResourceRef => ({ group, version: 'v1', plural, namespaced: true });
const clusterScoped = (group: string, plural: string): ResourceRef => ({
  group,
  version: 'v1',
  plural,
  namespaced: false,
});

/** Well-known built-in resources the tool reads or writes. */
export const core = {
  namespaces: clusterScoped('', 'namespaces'),
  pods: namespaced('', 'pods'),
  secrets: namespaced('', 'secrets'),
  configmaps: namespaced('', 'configmaps'),
  deployments: namespaced('apps', 'deployments'),
  statefulsets: namespaced('apps', 'statefulsets'),
  daemonsets: namespaced('apps', 'daemonsets'),
  replicasets: namespaced('apps', 'replicasets'),
  controllerrevisions: namespaced('apps', 'controllerrevisions'),
  events: namespaced('', 'events'),
  jobs: namespaced('batch', 'jobs'),
  crds: clusterScoped('apiextensions.k8s.io', 'customresourcedefinitions'),
  leases: namespaced('coordination.k8s.io', 'leases'),
  selfSubjectAccessReviews: clusterScoped('authorization.k8s.io', 'selfsubjectaccessreviews'),
  apiServices: clusterScoped('apiregistration.k8s.io', 'apiservices'),
} as const satisfies Record<string, ResourceRef>;
