/**
 * Leftovers: what an earlier removal or a failed run left in the cluster that the real
 * nginx-meshctl or Helm then trips over. One row per kind below, with what it breaks and the
 * command that clears it; `classifyLeftovers` is pure (table-tested), `scanLeftovers` reads the
 * cluster (leftover-scan.ts) and clearing is leftover-clear.ts.
 *
 * Two moments look for them:
 * - preflight (the mesh is installed): anything found refuses the run (exit 3) unless
 *   --clean-leftovers, which adds step hop1.clean-leftovers right after the backup;
 * - before a deploy (the mesh was just removed): what the removal itself left. The SPIRE volume
 *   is not looked for then: a hop's own removal keeps it exactly as an in-place upgrade would
 *   (one release apart, same trust domain); only a volume no spire-server claims at preflight
 *   (left by an older removal) is a leftover.
 * A terminating namespace that held a mesh is one only when its deletion is stuck (its conditions
 * say so): one merely being deleted is gone in a moment, and the deploy waits for it.
 */
import type { Command } from '../controlplane/runner.ts';
import type { KubeObject } from '../kube/client.ts';

export type LeftoverKind = 'webhook' | 'crd-unlabelled' | 'apiservice' | 'spire-pvc' | 'sentinel-job' | 'terminating-namespace';

export interface Leftover {
  kind: LeftoverKind;
  /** "ValidatingWebhookConfiguration x.nsm.nginx", "namespace old-mesh (Terminating)". */
  what: string;
  name: string;
  namespace?: string;
  /** Webhooks: which of the two kinds. */
  resource?: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations';
  /** Terminating namespaces: objects whose finalizers hold the deletion (API path, finalizers). */
  holders?: { path: string; name: string; resource: string; finalizers: string[] }[];
  /** What it breaks, for the user. */
  breaks: string;
  /** The command that clears it by hand (shown only; the tool clears through the API). */
  clear: Pick<Command, 'bin' | 'args'>;
}

/** The label every mesh object carries. */
export const partOfLabel = { key: 'app.kubernetes.io/part-of', value: 'nginx-service-mesh' } as const;

/** The CRDs real nginx-meshctl deploy treats as the mesh's (pkg/k8s meshCRDs, 1.7.0 and 2.0.0). */
export const meshCrdNames = [
  'spiffeids.spiffeid.spiffe.io', 'trafficsplits.split.smi-spec.io', 'traffictargets.access.smi-spec.io', 'httproutegroups.specs.smi-spec.io',
  'tcproutes.specs.smi-spec.io', 'ratelimits.specs.smi.nginx.com', 'circuitbreakers.specs.smi.nginx.com', 'meshconfigclasses.nsm.nginx.com', 'meshconfigs.nsm.nginx.com',
] as const;

/** API groups the mesh serves through aggregated APIServices (nginx-mesh-api 1.x, nginx-mesh-metrics). */
export const meshApiGroups = ['nsm.nginx.com', 'metrics.smi-spec.io'] as const;

/** The webhook configurations the charts create (same names in 1.5 to 2.0). */
export const chartWebhookNames = ['sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx', 'validating-webhook-cfg.internal.builtin.nsm.nginx', 'k8s-workload-registrar.security.builtin.nsm.nginx'] as const;

export const sentinelJob = 'csi-driver-sentinel';
/** The SPIRE server's volumeClaimTemplate (spire-data) of StatefulSet spire-server: PVC names spire-data-spire-server-<n>. */
export const spirePvcPattern = /^spire-data-spire-server-\d+$/;

/** Finalizers that hold a deletion only until their controller is done (not a stuck namespace). */
const transientFinalizers = new Set(['kubernetes.io/pvc-protection', 'kubernetes.io/pv-protection', 'foregroundDeletion', 'orphan', 'batch.kubernetes.io/job-tracking']);

export type ScanPhase = 'preflight' | 'before-deploy';

interface WebhookConfig extends KubeObject {
  webhooks?: { name?: string; failurePolicy?: string; clientConfig?: { service?: { namespace?: string; name?: string } }; rules?: { operations?: string[]; resources?: string[] }[] }[];
}
interface ApiService extends KubeObject {
  spec?: { group?: string; version?: string; service?: { namespace?: string; name?: string } | null };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}
interface NamespaceObj extends KubeObject {
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** What the scan read; everything the classification needs, no I/O. */
export interface LeftoverScan {
  webhooks: { resource: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations'; obj: WebhookConfig }[];
  /** Services that exist, "ns/name" (only those the webhooks and APIServices name were looked up). */
  services: ReadonlySet<string>;
  /** The mesh CRDs that exist (by meshCrdNames). */
  crds: KubeObject[];
  apiServices: ApiService[];
  /** PVCs and StatefulSets of the mesh namespace. */
  pvcs: KubeObject[];
  statefulsets: (KubeObject & { spec?: { volumeClaimTemplates?: { metadata?: { name?: string } }[] } })[];
  /** Jobs named csi-driver-sentinel, any namespace. */
  sentinels: KubeObject[];
  /**
   * Terminating namespaces that held a mesh (or are the plan's): the finalizer holders found in
   * them, the mesh-chart Helm releases still in them ("ns/name (status)") and mesh objects ("configmaps/x").
   */
  terminating: { ns: NamespaceObj; holders: NonNullable<Leftover['holders']>; releases?: string[]; objects?: string[] }[];
}

export interface ScanContext {
  /** The mesh namespace of the plan. */
  namespace: string;
  phase: ScanPhase;
}

const kindName = { mutatingwebhookconfigurations: 'MutatingWebhookConfiguration', validatingwebhookconfigurations: 'ValidatingWebhookConfiguration' } as const;
const kubectl = (...args: string[]) => ({ bin: 'kubectl', args });

/** Is this an object of the mesh: the part-of label, or (webhooks) the chart's naming. */
export function isMeshObject(obj: KubeObject): boolean {
  return obj.metadata?.labels?.[partOfLabel.key] === partOfLabel.value;
}

function webhookLeftovers(scan: LeftoverScan): Leftover[] {
  const out: Leftover[] = [];
  for (const { resource, obj } of scan.webhooks) {
    const name = obj.metadata?.name ?? '';
    if (!isMeshObject(obj) && !name.endsWith('.nsm.nginx')) continue;
    const gone = (obj.webhooks ?? []).filter((w) => {
      const s = w.clientConfig?.service;
      return s?.name && !scan.services.has(`${s.namespace ?? 'default'}/${s.name}`);
    });
    if (gone.length === 0) continue;
    const svc = gone[0]!.clientConfig!.service!;
    const fail = gone.some((w) => (w.failurePolicy ?? 'Fail') === 'Fail');
    const matches = [...new Set(gone.flatMap((w) => (w.rules ?? []).flatMap((r) => (r.operations ?? []).flatMap((op) => (r.resources ?? []).map((res) => `${op} ${res}`)))))].join(', ') || 'requests';
    const breaks = fail
      ? `its service ${svc.namespace}/${svc.name} is gone and its failurePolicy is Fail: the API server refuses every ${matches} it matches, in every namespace (the re-roll's new pods, the mesh's own pods and hook Jobs)`
      : `its service ${svc.namespace}/${svc.name} is gone: every ${matches} it matches waits for the call to fail (failurePolicy Ignore)`;
    const sameName = (chartWebhookNames as readonly string[]).includes(name) ? '; and the deploy cannot create the chart\'s webhook of the same name (Helm: "exists and cannot be imported into the current release")' : '';
    out.push({ kind: 'webhook', what: `${kindName[resource]} ${name}`, name, resource, breaks: breaks + sameName, clear: kubectl('delete', kindName[resource].toLowerCase(), name) });
  }
  return out;
}

function crdLeftovers(scan: LeftoverScan): Leftover[] {
  return scan.crds.filter((c) => !isMeshObject(c) && !c.metadata?.deletionTimestamp).map((c) => {
    const name = c.metadata?.name ?? '';
    return {
      kind: 'crd-unlabelled' as const, what: `CRD ${name} without label ${partOfLabel.key}=${partOfLabel.value}`, name,
      breaks: 'nginx-meshctl deploy refuses while it exists ("CRD already exists. Please remove before deploying"); nginx-meshctl remove and the helm path\'s CRD deletion skip it, so a redeploy keeps its old schema',
      // Labelled, it is the mesh's: the removal (after the backup) deletes it and the deploy installs the target's; in place, the upgrade replaces it.
      clear: kubectl('label', 'crd', name, `${partOfLabel.key}=${partOfLabel.value}`),
    };
  });
}

function apiServiceLeftovers(scan: LeftoverScan): Leftover[] {
  const out: Leftover[] = [];
  for (const a of scan.apiServices) {
    const s = a.spec?.service;
    const name = a.metadata?.name ?? '';
    if (!s?.name) continue; // local (served by this API server, e.g. a CRD's group)
    if (!isMeshObject(a) && !(meshApiGroups as readonly string[]).includes(a.spec?.group ?? '')) continue;
    if (scan.services.has(`${s.namespace ?? 'default'}/${s.name}`)) continue;
    const available = a.status?.conditions?.find((c) => c.type === 'Available');
    const state = available && available.status !== 'True' ? ` (Available=${available.status}${available.reason ? `, ${available.reason}` : ''})` : '';
    out.push({
      kind: 'apiservice', what: `APIService ${name}${state}`, name,
      breaks: `its service ${s.namespace}/${s.name} is gone, so discovery of ${a.spec?.group}/${a.spec?.version} fails: namespace deletions stall (the mesh namespace a removal deletes stays Terminating, and the deploy waits on it), the garbage collector stops, and Helm warns of an orphaned API service`,
      clear: kubectl('delete', 'apiservice', name),
    });
  }
  return out;
}

function pvcLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  if (ctx.phase !== 'preflight') return [];
  const claimed = scan.statefulsets.some((s) => s.metadata?.name === 'spire-server' && (s.spec?.volumeClaimTemplates ?? []).some((t) => t.metadata?.name === 'spire-data'));
  if (claimed) return [];
  return scan.pvcs.filter((p) => spirePvcPattern.test(p.metadata?.name ?? '') && p.metadata?.namespace === ctx.namespace && !p.metadata?.deletionTimestamp).map((p) => {
    const name = p.metadata!.name!;
    return {
      kind: 'spire-pvc' as const, what: `PersistentVolumeClaim ${ctx.namespace}/${name} (no spire-server claims it)`, name, namespace: ctx.namespace,
      breaks: `a spire-server StatefulSet deployed into ${ctx.namespace} (persistent storage on, the charts' default) adopts it and starts on a removed mesh's SPIRE datastore: its CA keys, registration entries, and the schema of an older SPIRE`,
      clear: kubectl('delete', 'pvc', name, '-n', ctx.namespace),
    };
  });
}

function sentinelLeftovers(scan: LeftoverScan): Leftover[] {
  return scan.sentinels.filter((j) => !j.metadata?.deletionTimestamp).map((j) => {
    const ns = j.metadata?.namespace ?? '';
    return {
      kind: 'sentinel-job' as const, what: `Job ${ns}/${sentinelJob} (from an earlier removal)`, name: sentinelJob, namespace: ns,
      breaks: `it still waits for every injected pod to go, then deletes the CSI driver pieces: after a redeploy those are the NEW mesh's; and a removal's post-delete hook cannot create its own ${sentinelJob} in ${ns} beside it`,
      clear: kubectl('delete', 'job', sentinelJob, '-n', ns),
    };
  });
}

/** Pure: is a terminating namespace's deletion stuck (not merely in progress)? Returns why, or undefined. */
export function stuckReason(ns: NamespaceObj): string | undefined {
  const conds = ns.status?.conditions ?? [];
  const on = (type: string) => conds.find((c) => c.type === type && c.status === 'True');
  const discovery = on('NamespaceDeletionDiscoveryFailure') ?? on('NamespaceDeletionGroupVersionParsingFailure');
  if (discovery) return discovery.message ?? discovery.reason ?? discovery.type;
  const content = on('NamespaceDeletionContentFailure');
  if (content) return content.message ?? content.reason ?? content.type;
  const fin = on('NamespaceFinalizersRemaining');
  if (fin && finalizersIn(fin.message ?? '').some((f) => !transientFinalizers.has(f))) return fin.message ?? fin.type;
  return undefined;
}

/** "Some content in the namespace has finalizers remaining: a/b in 1 resource instances, c in 2 ..." -> ["a/b", "c"]. */
export function finalizersIn(message: string): string[] {
  const list = message.split('remaining:')[1] ?? '';
  return list.split(',').map((p) => p.trim().split(/\s+in\s+\d+\s+resource/)[0]!.trim()).filter(Boolean);
}

/** "Some resources are remaining: configmaps. has 1 resource instances, ratelimits.specs.smi.nginx.com has 2 ..." -> [{resource, group}]. */
export function remainingResources(message: string): { resource: string; group: string }[] {
  const list = message.split('remaining:')[1] ?? '';
  return list.split(',').map((p) => p.trim().split(/\s+has\s+\d+/)[0]!.trim()).filter(Boolean).map((gr) => {
    const dot = gr.indexOf('.');
    return dot < 0 ? { resource: gr, group: '' } : { resource: gr.slice(0, dot), group: gr.slice(dot + 1) };
  });
}

function namespaceLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  const out: Leftover[] = [];
  for (const { ns, holders, releases = [], objects = [] } of scan.terminating) {
    const name = ns.metadata?.name ?? '';
    // Preflight: the installed mesh's own namespace being deleted is not a leftover (the control-plane check sees it).
    if (ctx.phase === 'preflight' && name === ctx.namespace) continue;
    // One merely being deleted is gone in a moment (the deploy waits for what is left of a mesh): only a stuck deletion is a leftover.
    const stuck = stuckReason(ns);
    if (!stuck) continue;
    const first = holders[0];
    const clear = first
      ? kubectl('patch', first.resource, first.name, '-n', name, '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}')
      : kubectl('get', 'namespace', name, '-o', 'yaml');
    const held = holders.length ? `; held by ${holders.map((h) => `${h.resource}/${h.name} (${h.finalizers.join(', ')})`).join(', ')}` : '';
    const effect = releases.length
      ? `it still holds Helm release ${releases.join(', ')} of the mesh chart: nginx-meshctl deploy refuses while one exists in any namespace ("found existing release")`
      : name === ctx.namespace
        ? 'the mesh is deployed into it, and nothing can be created in a namespace being deleted'
        : `it held a mesh (${objects.join(', ')} remains): a mesh deployed into it cannot start until it is gone`;
    out.push({
      kind: 'terminating-namespace', what: `namespace ${name} (Terminating, stuck)`, name, holders,
      breaks: `${effect}; its deletion is stuck: ${stuck}${held}${first ? '' : ' (clear the unavailable APIService listed, or remove the finalizers the conditions name)'}`,
      clear,
    });
  }
  return out;
}

/**
 * Pure: the leftovers in a scan, in the order they are cleared (a stuck namespace last: clearing
 * an unavailable APIService is often what unblocks it).
 */
export function classifyLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  return [...webhookLeftovers(scan), ...apiServiceLeftovers(scan), ...sentinelLeftovers(scan), ...pvcLeftovers(scan, ctx), ...crdLeftovers(scan), ...namespaceLeftovers(scan, ctx)];
}

/** One line for a leftover: what it is and what it breaks. */
export function describeLeftover(l: Leftover): string {
  return `${l.what}: ${l.breaks}`;
}
