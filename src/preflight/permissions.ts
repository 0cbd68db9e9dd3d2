/**
 * The API permissions each kind of step needs, as data with the reason beside each row; the
 * preflight asks the API server about each (SelfSubjectAccessReview) before anything changes.
 * Pure: `requiredPermissions(plan)` lists what a plan needs, deduplicated, naming the steps.
 */
import { catalog, resourceName } from '../mesh/catalog.ts';
import { leaseNamespace } from '../engine/lease.ts';
import type { Plan, StepKind } from '../engine/types.ts';
import table from './permissions.json' with { type: 'json' };

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
  return dot < 0
    ? { verb, group: '', resource, namespace, why }
    : { verb, group: resource.slice(dot + 1), resource: resource.slice(0, dot), namespace, why };
}

/** A restart of the injected workloads (restartWorkloads): the restart and restart-unmeshed steps. */
const restart: readonly Permission[] = [
  perm('patch', 'deployments.apps', '', 'restart injected Deployments'),
  perm('patch', 'statefulsets.apps', '', 'restart injected StatefulSets'),
  perm('patch', 'daemonsets.apps', '', 'restart injected DaemonSets'),
  perm(
    'create',
    'pods/eviction',
    '',
    'evict injected pods without a rolling controller (--delete-bare-pods), as PodDisruptionBudgets allow',
  ),
  perm('list', 'events', '', "read why a workload's restart failed (FailedCreate events)"),
  perm('list', 'replicasets.apps', '', 'find the ReplicaSet a failed restart creates pods for'),
  perm('get', 'configmaps', leaseNamespace, "read the last restart's record (which workloads it brought over)"),
  perm('create', 'configmaps', leaseNamespace, "record the restart's progress, so restart can continue it"),
  perm('update', 'configmaps', leaseNamespace, "record the restart's progress, so restart can continue it"),
  perm(
    'delete',
    'configmaps',
    leaseNamespace,
    'delete the record an earlier version kept under its old name (nsm-upgrade.<mesh namespace>.reroll)',
  ),
];

/** The rows of permissions.json for each step kind it lists (every kind but the catalog-built ones). */
type DataKinds = Exclude<StepKind, 'restart-unmeshed' | 'restore' | 'restart' | 'restore-resources'> | 'leftover-scan';
const data: Record<DataKinds, readonly (readonly string[])[]> = table;
const rows = (kind: DataKinds): Permission[] =>
  data[kind].map(([verb, resource, namespace, why]) => perm(verb!, resource!, namespace!, why!));

/** Per step kind: what it does through the API or through helm/nginx-meshctl (which use our credentials). */
export const stepPermissions: Readonly<Record<StepKind, readonly Permission[]>> = {
  // The preflight looks for leftovers before any plan runs (every plan starts with a backup).
  backup: [
    ...rows('backup'),
    ...catalog.map((k) => perm('list', resourceName(k), '', `back up every ${k.plural} in all namespaces`)),
    ...rows('leftover-scan'),
  ],
  'clean-leftovers': [...rows('leftover-scan'), ...rows('clean-leftovers')],
  'label-namespaces': rows('label-namespaces'),
  'apply-crds': rows('apply-crds'),
  upgrade: rows('upgrade'),
  remove: rows('remove'),
  'delete-crds': rows('delete-crds'),
  'restart-unmeshed': restart,
  'wait-sentinel': rows('wait-sentinel'),
  deploy: [...rows('deploy'), ...rows('leftover-scan')],
  restore: catalog.map((k) => perm('create', resourceName(k), '', `re-create backed-up ${k.plural}`)),
  restart,
  verify: rows('verify'),
  // Rollback (src/rollback/).
  snapshot: [
    ...rows('snapshot'),
    ...catalog.map((k) => perm('list', resourceName(k), '', `back up every ${k.plural} before the rollback`)),
  ],
  'helm-rollback': rows('helm-rollback'),
  'restore-crds': rows('restore-crds'),
  'restore-resources': catalog.flatMap((k) => [
    perm('create', resourceName(k), '', `re-create backed-up ${k.plural}`),
    perm('update', resourceName(k), '', `put ${k.plural} back exactly as backed up`),
  ]),
  'verify-rollback': rows('verify-rollback'),
};

/** What every run needs besides its steps: the Lease that keeps it the only run on the mesh. */
export const runPermissions: readonly Permission[] = ['create', 'get', 'update', 'delete'].map((verb) =>
  perm(verb, 'leases.coordination.k8s.io', leaseNamespace, "one run at a time per mesh (the run's Lease)"),
);

export interface RequiredPermission extends Permission {
  /** The step ids that need it. */
  steps: string[];
}

/** Everything a plan needs, deduplicated by verb/group/resource/namespace, mesh namespace filled in. */
export function requiredPermissions(plan: Pick<Plan, 'hops' | 'namespace'>): RequiredPermission[] {
  const byKey = new Map<string, RequiredPermission>();
  for (const p of runPermissions)
    byKey.set(`${p.verb} ${p.group}/${p.resource} ${p.namespace}`, { ...p, steps: ['lease'] });
  for (const hop of plan.hops) {
    for (const step of hop.steps) {
      for (const p of stepPermissions[step.kind]) {
        const namespace = p.namespace === '$mesh' ? plan.namespace : p.namespace;
        const key = `${p.verb} ${p.group}/${p.resource} ${namespace}`;
        const cur = byKey.get(key);
        if (cur) {
          if (!cur.steps.includes(step.id)) cur.steps.push(step.id);
        } else byKey.set(key, { ...p, namespace, steps: [step.id] });
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
