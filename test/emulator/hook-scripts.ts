import type { ResourceRef } from '../../src/kube/paths.ts';

/**
 * Reads what the charts' OpenShift hook scripts do, from the scripts themselves (the pod's
 * command), so the emulator follows whichever chart installed the mesh: the 1.6 scripts delete
 * the spire-agent DaemonSet, 1.7+ the spiffe-csi-driver DaemonSet.
 */

/** Hook Jobs the emulator completes itself (KWOK completes every other Job pod). */
export const playedJobs = {
  cleanup: 'csi-driver-cleanup',
  sentinel: 'csi-driver-sentinel',
} as const;

/** Every Job the mesh's charts run (hooks): their pods are never injected. */
export const meshJobNames = [
  'turn-proxies-transparent',
  'remove-spiffeids',
  'remove-namespace-label',
  'remove-namespace-labels',
  'remove-registry-secrets',
  'label-namespace',
  'save-httproutegroups',
  'update-httproutegroups',
  'csi-driver-cleanup',
  'csi-driver-sentinel',
] as const;

/** kubectl's resource words in the scripts, mapped to API resources. */
export const kubectlKinds: Record<string, ResourceRef> = {
  daemonset: { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  serviceaccount: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  secret: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  clusterrole: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
  clusterrolebinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
  rolebinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  scc: { group: 'security.openshift.io', version: 'v1', plural: 'securitycontextconstraints', namespaced: false },
  csidriver: { group: 'storage.k8s.io', version: 'v1', plural: 'csidrivers', namespaced: false },
};

/** API resources for the kinds the sentinel manifest (sentinel.yaml, secret.yaml) creates. */
export const manifestKinds: Record<string, ResourceRef> = {
  ServiceAccount: kubectlKinds.serviceaccount!,
  Secret: kubectlKinds.secret!,
  ClusterRoleBinding: kubectlKinds.clusterrolebinding!,
  ClusterRole: kubectlKinds.clusterrole!,
  RoleBinding: kubectlKinds.rolebinding!,
  Job: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
};

export interface Deletion {
  kind: string;
  name: string;
}

/**
 * The `kubectl delete KIND NAME` lines of a script, in order. Lines with unresolved template
 * text are skipped. The real scripts do not delete the CSIDriver csi.spiffe.io: it has no
 * keep policy, so `helm uninstall` already removed it with the release.
 */
export function parseDeletions(script: string): Deletion[] {
  const out: Deletion[] = [];
  for (const line of script.split('\n')) {
    const m = /^\s*kubectl\s+delete\s+([a-z]+)\s+([A-Za-z0-9:._-]+)/.exec(line);
    if (m && kubectlKinds[m[1]!] && !line.includes('{{')) out.push({ kind: m[1]!, name: m[2]! });
  }
  return out;
}

/**
 * What the sentinel deletes when a chart's script cannot be read (fixture charts may not carry
 * one): the 1.7+ CSI DaemonSet and CSIDriver, and the 1.6 spire-agent DaemonSet.
 */
export const fallbackDeletions: Deletion[] = [
  { kind: 'daemonset', name: 'spiffe-csi-driver' },
  { kind: 'csidriver', name: 'csi.spiffe.io' },
  { kind: 'daemonset', name: 'spire-agent' },
];

/** The 1.6/1.7 cleanup script strips the spire-agent DaemonSet's containers when it hands over to the sentinel. */
export function stripsSpireAgent(script: string): boolean {
  return /kubectl patch daemonset spire-agent/.test(script);
}

export type CleanupPlan =
  { action: 'create-sentinel'; stripSpireAgent: boolean } | { action: 'delete'; deletions: Deletion[] };

/** The cleanup hook's branch: hand over to the sentinel while injected pods remain, else delete now. */
export function planCleanup(injectedPods: number, script: string): CleanupPlan {
  if (injectedPods > 0) return { action: 'create-sentinel', stripSpireAgent: stripsSpireAgent(script) };
  const deletions = parseDeletions(script);
  return { action: 'delete', deletions: deletions.length ? deletions : fallbackDeletions };
}

interface PodCommand {
  spec?: { containers?: { command?: string[]; args?: string[] }[] };
}

/** The script a hook pod runs: its containers' command and args joined. */
export function scriptOf(pod: PodCommand): string {
  return (pod.spec?.containers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]).join('\n');
}

/**
 * The status a finished Job pod reports (what kubelet would write when every container exited 0),
 * as a strategic-merge patch for the pod's status subresource.
 */
interface PodSpecLike {
  spec?: { containers?: { name?: string; image?: string }[] };
}

export function succeededStatusPatch(pod: PodSpecLike, now: Date): Record<string, unknown> {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: 'True' | 'False', reason?: string) => ({
    type,
    status,
    lastTransitionTime: t,
    ...(reason ? { reason } : {}),
  });
  return {
    status: {
      phase: 'Succeeded',
      conditions: [
        condition('Initialized', 'True', 'PodCompleted'),
        condition('Ready', 'False', 'PodCompleted'),
        condition('ContainersReady', 'False', 'PodCompleted'),
        condition('PodScheduled', 'True'),
      ],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name ?? '',
        image: c.image ?? '',
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } },
      })),
    },
  };
}
