/**
 * The API permissions each kind of step needs, as data with the reason beside each row; the
 * preflight asks the API server about each (SelfSubjectAccessReview) before anything changes.
 * Pure: `requiredPermissions(plan)` lists what a plan needs, deduplicated, naming the steps.
 */
import { catalog } from '../mesh/catalog.ts';
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

const meshKinds = catalog.map((k) => ({ group: k.group, resource: k.plural }));

/** Per step kind: what it does through the API or through helm/nginx-meshctl (which use our credentials). */
export const stepPermissions: Readonly<Record<StepKind, readonly Permission[]>> = {
  backup: [
    { verb: 'list', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'back up the mesh CRDs' },
    ...meshKinds.map((k) => ({ verb: 'list', ...k, namespace: '', why: `back up every ${k.resource} in all namespaces` })),
    { verb: 'list', group: '', resource: 'secrets', namespace: '$mesh', why: 'read the Helm release values' },
    { verb: 'get', group: '', resource: 'configmaps', namespace: '$mesh', why: 'read the mesh configuration' },
  ],
  'label-namespaces': [
    { verb: 'patch', group: '', resource: 'namespaces', namespace: '', why: 'add the 2.0 auto-inject label' },
  ],
  'apply-crds': [
    { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'apply the target chart\'s CRDs' },
    { verb: 'patch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'apply the target chart\'s CRDs' },
  ],
  upgrade: [
    { verb: 'update', group: 'apps', resource: 'deployments', namespace: '$mesh', why: 'helm/nginx-meshctl upgrade the control plane' },
    { verb: 'create', group: '', resource: 'secrets', namespace: '$mesh', why: 'Helm records the new release revision' },
    { verb: 'patch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'nginx-meshctl upgrade applies the new CRDs' },
    { verb: 'update', group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', namespace: '', why: 'the chart owns the sidecar injector webhook' },
    { verb: 'update', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', why: 'the chart owns the control plane\'s cluster roles' },
  ],
  remove: [
    { verb: 'delete', group: 'apps', resource: 'deployments', namespace: '$mesh', why: 'remove the control plane' },
    { verb: 'delete', group: '', resource: 'secrets', namespace: '$mesh', why: 'Helm deletes the release records' },
    { verb: 'delete', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'nginx-meshctl remove deletes the mesh CRDs' },
    { verb: 'delete', group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', namespace: '', why: 'remove the sidecar injector webhook' },
    { verb: 'list', group: '', resource: 'secrets', namespace: '', why: 'look for mesh-chart releases in every namespace before finishing a removal\'s cleanup' },
    { verb: 'delete', group: '', resource: 'namespaces', namespace: '', why: 'finish a removal that left the mesh namespace (nginx-meshctl remove deletes it)' },
  ],
  'delete-crds': [
    { verb: 'delete', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'helm uninstall leaves the CRDs behind' },
  ],
  'restart-unmeshed': [
    { verb: 'patch', group: 'apps', resource: 'deployments', namespace: '', why: 're-roll injected workloads' },
    { verb: 'delete', group: '', resource: 'pods', namespace: '', why: 're-create injected pods without a rolling controller' },
  ],
  'wait-sentinel': [
    { verb: 'watch', group: 'batch', resource: 'jobs', namespace: '$mesh', why: 'wait for the csi-driver-sentinel Job to be deleted' },
    { verb: 'list', group: '', resource: 'pods', namespace: '', why: 'show which injected pods still block the sentinel' },
  ],
  deploy: [
    { verb: 'create', group: '', resource: 'namespaces', namespace: '', why: 'nginx-meshctl deploy creates the mesh namespace' },
    { verb: 'create', group: 'apps', resource: 'deployments', namespace: '$mesh', why: 'deploy the control plane' },
    { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'deploy installs the mesh CRDs' },
    { verb: 'create', group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', namespace: '', why: 'deploy installs the sidecar injector webhook' },
    { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', why: 'deploy installs the control plane\'s cluster roles' },
    { verb: 'list', group: '', resource: 'secrets', namespace: '', why: 'nginx-meshctl deploy refuses while a mesh-chart release exists in any namespace: wait until none is left' },
    { verb: 'delete', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespace: '', why: 'delete mesh CRDs an interrupted removal left (deploy refuses while they exist)' },
  ],
  restore: meshKinds.map((k) => ({ verb: 'create', ...k, namespace: '', why: `re-create backed-up ${k.resource}` })),
  restart: [
    { verb: 'patch', group: 'apps', resource: 'deployments', namespace: '', why: 're-roll injected Deployments' },
    { verb: 'patch', group: 'apps', resource: 'statefulsets', namespace: '', why: 're-roll injected StatefulSets' },
    { verb: 'patch', group: 'apps', resource: 'daemonsets', namespace: '', why: 're-roll injected DaemonSets' },
    { verb: 'delete', group: '', resource: 'pods', namespace: '', why: 're-create injected pods without a rolling controller' },
  ],
  verify: [
    { verb: 'list', group: '', resource: 'pods', namespace: '', why: 'check every sidecar\'s version' },
  ],
};

/** What every run needs besides its steps: the Lease that keeps it the only run on the mesh. */
export const runPermissions: readonly Permission[] = ['create', 'get', 'update', 'delete'].map((verb) => (
  { verb, group: 'coordination.k8s.io', resource: 'leases', namespace: leaseNamespace, why: 'one run at a time per mesh (the run\'s Lease)' }));

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
