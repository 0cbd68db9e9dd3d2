/**
 * The API permissions each kind of step needs, as data with the reason beside each row; the
 * preflight asks the API server about each (SelfSubjectAccessReview) before anything changes.
 * Pure: `requiredPermissions(plan)` lists what a plan needs, deduplicated, naming the steps.
 */
import { catalog, resourceName } from '../mesh/catalog.ts';
import { leaseNamespace } from './lease.ts';
import type { Plan, StepKind } from './types.ts';

export interface Permission {
  verb: string;
  group: string;
  resource: string;
  /** Namespace-scoped check ('' = all namespaces or cluster-scoped); '$mesh' = the mesh namespace. */
  namespace: string;
  why: string;
}

/**
 * One row: `resource` as kubectl names it, `plural.group` ("deployments.apps"; core kinds have
 * no group: "secrets"); `namespace` as in Permission.
 */
function perm(verb: string, resource: string, namespace: string, why: string): Permission {
  const dot = resource.indexOf('.');
  return dot < 0 ? { verb, group: '', resource, namespace, why } : { verb, group: resource.slice(dot + 1), resource: resource.slice(0, dot), namespace, why };
}

/** A re-roll of the injected workloads (restartWorkloads): the restart and restart-unmeshed steps. */
const reroll: readonly Permission[] = [
  perm('patch', 'deployments.apps', '', 're-roll injected Deployments'),
  perm('patch', 'statefulsets.apps', '', 're-roll injected StatefulSets'),
  perm('patch', 'daemonsets.apps', '', 're-roll injected DaemonSets'),
  perm('delete', 'pods', '', 're-create injected pods without a rolling controller'),
];

/** Looking for leftovers (leftover-scan.ts): the preflight, and every deploy before it starts. */
const leftoverScan: readonly Permission[] = [
  perm('list', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', '', 'look for mesh webhooks whose service is gone'),
  perm('list', 'validatingwebhookconfigurations.admissionregistration.k8s.io', '', 'look for mesh webhooks whose service is gone'),
  perm('list', 'apiservices.apiregistration.k8s.io', '', 'look for mesh APIServices whose service is gone'),
  perm('get', 'services', '', 'check that the services of the mesh webhooks and APIServices exist'),
  perm('list', 'jobs.batch', '', 'look for csi-driver-sentinel Jobs of earlier removals'),
  perm('list', 'namespaces', '', 'look for terminating namespaces that held a mesh'),
  perm('get', 'customresourcedefinitions.apiextensions.k8s.io', '', 'look for mesh CRDs without the part-of label'),
];

/** Per step kind: what it does through the API or through helm/nginx-meshctl (which use our credentials). */
export const stepPermissions: Readonly<Record<StepKind, readonly Permission[]>> = {
  backup: [
    perm('list', 'customresourcedefinitions.apiextensions.k8s.io', '', 'back up the mesh CRDs'),
    ...catalog.map((k) => perm('list', resourceName(k), '', `back up every ${k.plural} in all namespaces`)),
    perm('list', 'secrets', '$mesh', 'read the Helm release values'),
    perm('get', 'configmaps', '$mesh', 'read the mesh configuration'),
    // The preflight looks for leftovers before any plan runs (every plan starts with a backup).
    ...leftoverScan,
    perm('list', 'persistentvolumeclaims', '$mesh', 'look for SPIRE volumes no spire-server claims'),
  ],
  'clean-leftovers': [
    ...leftoverScan,
    perm('list', 'persistentvolumeclaims', '$mesh', 'look for SPIRE volumes no spire-server claims'),
    perm('delete', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', '', 'delete mesh webhooks whose service is gone'),
    perm('delete', 'validatingwebhookconfigurations.admissionregistration.k8s.io', '', 'delete mesh webhooks whose service is gone'),
    perm('delete', 'apiservices.apiregistration.k8s.io', '', 'delete mesh APIServices whose service is gone'),
    perm('delete', 'jobs.batch', '', 'delete csi-driver-sentinel Jobs of earlier removals'),
    perm('delete', 'persistentvolumeclaims', '$mesh', 'delete SPIRE volumes no spire-server claims'),
    perm('patch', 'customresourcedefinitions.apiextensions.k8s.io', '', 'label mesh CRDs part-of=nginx-service-mesh'),
    perm('patch', 'namespaces', '', 'requeue a stuck namespace deletion'),
  ],
  'label-namespaces': [
    perm('patch', 'namespaces', '', 'add the 2.0 auto-inject label'),
  ],
  'apply-crds': [
    perm('create', 'customresourcedefinitions.apiextensions.k8s.io', '', 'apply the target chart\'s CRDs'),
    perm('patch', 'customresourcedefinitions.apiextensions.k8s.io', '', 'apply the target chart\'s CRDs'),
  ],
  upgrade: [
    perm('update', 'deployments.apps', '$mesh', 'helm/nginx-meshctl upgrade the control plane'),
    perm('create', 'secrets', '$mesh', 'Helm records the new release revision'),
    perm('patch', 'customresourcedefinitions.apiextensions.k8s.io', '', 'nginx-meshctl upgrade applies the new CRDs'),
    perm('update', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', '', 'the chart owns the sidecar injector webhook'),
    perm('update', 'clusterroles.rbac.authorization.k8s.io', '', 'the chart owns the control plane\'s cluster roles'),
  ],
  remove: [
    perm('delete', 'deployments.apps', '$mesh', 'remove the control plane'),
    perm('delete', 'secrets', '$mesh', 'Helm deletes the release records'),
    perm('delete', 'customresourcedefinitions.apiextensions.k8s.io', '', 'nginx-meshctl remove deletes the mesh CRDs'),
    perm('delete', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', '', 'remove the sidecar injector webhook'),
    perm('list', 'secrets', '', 'look for mesh-chart releases in every namespace before finishing a removal\'s cleanup'),
    perm('delete', 'namespaces', '', 'finish a removal that left the mesh namespace (nginx-meshctl remove deletes it)'),
  ],
  'delete-crds': [
    perm('delete', 'customresourcedefinitions.apiextensions.k8s.io', '', 'helm uninstall leaves the CRDs behind'),
  ],
  'restart-unmeshed': reroll,
  'wait-sentinel': [
    perm('watch', 'jobs.batch', '$mesh', 'wait for the csi-driver-sentinel Job to be deleted'),
    perm('list', 'pods', '', 'show which injected pods still block the sentinel'),
  ],
  deploy: [
    perm('create', 'namespaces', '', 'nginx-meshctl deploy creates the mesh namespace'),
    perm('create', 'deployments.apps', '$mesh', 'deploy the control plane'),
    perm('create', 'customresourcedefinitions.apiextensions.k8s.io', '', 'deploy installs the mesh CRDs'),
    perm('create', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', '', 'deploy installs the sidecar injector webhook'),
    perm('create', 'clusterroles.rbac.authorization.k8s.io', '', 'deploy installs the control plane\'s cluster roles'),
    perm('list', 'secrets', '', 'nginx-meshctl deploy refuses while a mesh-chart release exists in any namespace: wait until none is left'),
    perm('delete', 'customresourcedefinitions.apiextensions.k8s.io', '', 'delete mesh CRDs an interrupted removal left (deploy refuses while they exist)'),
    ...leftoverScan,
  ],
  restore: catalog.map((k) => perm('create', resourceName(k), '', `re-create backed-up ${k.plural}`)),
  restart: reroll,
  verify: [
    perm('list', 'pods', '', 'check every sidecar\'s version'),
  ],
};

/** What every run needs besides its steps: the Lease that keeps it the only run on the mesh. */
export const runPermissions: readonly Permission[] = ['create', 'get', 'update', 'delete'].map((verb) =>
  perm(verb, 'leases.coordination.k8s.io', leaseNamespace, 'one run at a time per mesh (the run\'s Lease)'));

export interface RequiredPermission extends Permission {
  /** The step ids that need it. */
  steps: string[];
}

/** Everything a plan needs, deduplicated by verb/group/resource/namespace, mesh namespace filled in. */
export function requiredPermissions(plan: Pick<Plan, 'hops' | 'namespace'>): RequiredPermission[] {
  const byKey = new Map<string, RequiredPermission>();
  for (const p of runPermissions) byKey.set(`${p.verb} ${p.group}/${p.resource} ${p.namespace}`, { ...p, steps: ['lease'] });
  for (const hop of plan.hops) {
    for (const step of hop.steps) {
      for (const p of stepPermissions[step.kind]) {
        const namespace = p.namespace === '$mesh' ? plan.namespace : p.namespace;
        const key = `${p.verb} ${p.group}/${p.resource} ${namespace}`;
        const cur = byKey.get(key);
        if (cur) { if (!cur.steps.includes(step.id)) cur.steps.push(step.id); } else byKey.set(key, { ...p, namespace, steps: [step.id] });
      }
    }
  }
  return [...byKey.values()];
}

/** "delete customresourcedefinitions.apiextensions.k8s.io (cluster-wide)". */
export function describePermission(p: Permission): string {
  const res = p.group ? `${p.resource}.${p.group}` : p.resource;
  return `${p.verb} ${res} ${p.namespace ? `in namespace ${p.namespace}` : '(all namespaces / cluster-wide)'}`;
}
