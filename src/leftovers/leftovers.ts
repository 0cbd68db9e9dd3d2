/**
 * Leftovers: what an earlier removal or a failed run left in the cluster that the real
 * nginx-meshctl or Helm then trips over. One row per kind below, with what it breaks and the
 * command that clears it; `classifyLeftovers` is pure (table-tested), `scanLeftovers` reads the
 * cluster (leftover-scan.ts) and clearing is leftover-clear.ts.
 *
 * Only what is provably the mesh's is ever cleared (mesh-ownership.ts: its label, or Helm's
 * ownership by its release); a same-named object without that evidence, an unlabelled CRD of a
 * mesh name, or a namespace held by another controller's finalizer is a leftover the tool reports
 * (`foreign` says why) and never touches: the run refuses until the user deals with it.
 *
 * Two moments look for them:
 * - preflight (the mesh is installed): anything found refuses the run (exit 3) unless
 *   --clean-leftovers, which adds step hop1.clean-leftovers right after the backup (it clears
 *   exactly what the approved plan listed: leftover-steps.ts);
 * - before a deploy (the mesh was just removed): what the removal itself left. The SPIRE volume
 *   is not looked for then: a hop's own removal keeps it exactly as an in-place upgrade would
 *   (one release apart, same trust domain); only a volume no spire-server claims at preflight
 *   (left by an older removal) is a leftover.
 * A terminating namespace that held a mesh is one only when its deletion is stuck (its conditions
 * say so): one merely being deleted is gone in a moment, and the deploy waits for it.
 */
import { sentinelJob } from '../controlplane/sentinel.ts';
import type { KubeObject } from '../kube/client.ts';
import { meshEvidence, noEvidence, partOfLabel } from './mesh-ownership.ts';
import { namespaceLeftovers } from './namespaces.ts';
import type { Leftover, LeftoverScan, ScanContext } from './types.ts';

/** The CRDs real nginx-meshctl deploy treats as the mesh's (pkg/k8s meshCRDs, 1.7.0 and 2.0.0). */
export const meshCrdNames = [
  'spiffeids.spiffeid.spiffe.io',
  'trafficsplits.split.smi-spec.io',
  'traffictargets.access.smi-spec.io',
  'httproutegroups.specs.smi-spec.io',
  'tcproutes.specs.smi-spec.io',
  'ratelimits.specs.smi.nginx.com',
  'circuitbreakers.specs.smi.nginx.com',
  'meshconfigclasses.nsm.nginx.com',
  'meshconfigs.nsm.nginx.com',
] as const;

/** API groups the mesh serves through aggregated APIServices (nginx-mesh-api 1.x, nginx-mesh-metrics); other SMI meshes serve metrics.smi-spec.io too. */
export const meshApiGroups = ['nsm.nginx.com', 'metrics.smi-spec.io'] as const;

/** The webhook configurations the charts create (same names in 1.5 to 2.0). */
export const chartWebhookNames = [
  'sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx',
  'validating-webhook-cfg.internal.builtin.nsm.nginx',
  'k8s-workload-registrar.security.builtin.nsm.nginx',
] as const;

/** The SPIRE server's volumeClaimTemplate (spire-data) of StatefulSet spire-server: PVC names spire-data-spire-server-<n>. */
export const spirePvcPattern = /^spire-data-spire-server-\d+$/;

const kindName = {
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration',
  validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
} as const;
const kubectl = (...args: string[]) => ({ bin: 'kubectl', args });
const uidOf = (o: KubeObject) => o.metadata?.uid as string | undefined;

/** The `foreign` field of a leftover without mesh evidence (spread into it), else nothing. */
function unlessMesh(obj: KubeObject, ctx: ScanContext, what: string): { foreign?: string } {
  return meshEvidence(obj, ctx)
    ? {}
    : {
        foreign: `not provably the mesh's: ${noEvidence(ctx)}. The tool deletes only what is; if it is a removed mesh's, ${what} yourself`,
      };
}

function webhookLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  const out: Leftover[] = [];
  for (const { resource, obj } of scan.webhooks) {
    const name = obj.metadata?.name ?? '';
    if (!meshEvidence(obj, ctx) && !name.endsWith('.nsm.nginx')) continue;
    const gone = (obj.webhooks ?? []).filter((w) => {
      const s = w.clientConfig?.service;
      return s?.name && !scan.services.has(`${s.namespace ?? 'default'}/${s.name}`);
    });
    if (gone.length === 0) continue;
    const svc = gone[0]!.clientConfig!.service!;
    const fail = gone.some((w) => (w.failurePolicy ?? 'Fail') === 'Fail');
    const matches =
      [
        ...new Set(
          gone.flatMap((w) =>
            (w.rules ?? []).flatMap((r) =>
              (r.operations ?? []).flatMap((op) => (r.resources ?? []).map((res) => `${op} ${res}`)),
            ),
          ),
        ),
      ].join(', ') || 'requests';
    const breaks = fail
      ? `its service ${svc.namespace}/${svc.name} is gone and its failurePolicy is Fail: the API server refuses every ${matches} it matches, in every namespace (the restart's new pods, the mesh's own pods and hook Jobs)`
      : `its service ${svc.namespace}/${svc.name} is gone: every ${matches} it matches waits for the call to fail (failurePolicy Ignore)`;
    const sameName = (chartWebhookNames as readonly string[]).includes(name)
      ? '; and the deploy cannot create the chart\'s webhook of the same name (Helm: "exists and cannot be imported into the current release")'
      : '';
    out.push({
      kind: 'webhook',
      what: `${kindName[resource]} ${name}`,
      name,
      uid: uidOf(obj),
      resource,
      breaks: breaks + sameName,
      clear: kubectl('delete', kindName[resource].toLowerCase(), name),
      ...unlessMesh(obj, ctx, 'delete it'),
    });
  }
  return out;
}

/**
 * A mesh-named CRD without the mesh's label is never the mesh's to take: every CRD of every chart
 * (charts/<version>/crds/*.yaml, and the charts nginx-meshctl embeds) carries the label, so one
 * without it was installed by something else (another SMI implementation serves the same names)
 * or had its label taken off. Labelled, the removal would delete it and every object of it in all
 * namespaces: the tool reports it and never adopts it.
 */
function crdLeftovers(scan: LeftoverScan): Leftover[] {
  return scan.crds
    .filter((c) => !meshEvidence(c) && !c.metadata?.deletionTimestamp)
    .map((c) => {
      const name = c.metadata?.name ?? '';
      return {
        kind: 'crd-unlabelled' as const,
        what: `CRD ${name} without label ${partOfLabel.key}=${partOfLabel.value}`,
        name,
        uid: uidOf(c),
        breaks:
          'nginx-meshctl deploy refuses while it exists ("CRD already exists. Please remove before deploying"); nginx-meshctl remove and the helm path\'s CRD deletion skip it, so a redeploy keeps its old schema; an in-place upgrade would overwrite its schema',
        clear: kubectl('label', 'crd', name, `${partOfLabel.key}=${partOfLabel.value}`),
        foreign: `every CRD the mesh installs carries that label, so the mesh did not create this one as it is (another SMI implementation may serve it). The tool never adopts it: labelled, the removal deletes it and every object of it in all namespaces. If it truly is the mesh's to hand over (its objects are then backed up and restored with the mesh's), label it with the command shown; if another product uses it, upgrade in place only after removing that product's use of it`,
      };
    });
}

function apiServiceLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  const out: Leftover[] = [];
  for (const a of scan.apiServices) {
    const s = a.spec?.service;
    const name = a.metadata?.name ?? '';
    if (!s?.name) continue; // local (served by this API server, e.g. a CRD's group)
    if (!meshEvidence(a, ctx) && !(meshApiGroups as readonly string[]).includes(a.spec?.group ?? '')) continue;
    if (scan.services.has(`${s.namespace ?? 'default'}/${s.name}`)) continue;
    const available = a.status?.conditions?.find((c) => c.type === 'Available');
    const state =
      available && available.status !== 'True'
        ? ` (Available=${available.status}${available.reason ? `, ${available.reason}` : ''})`
        : '';
    out.push({
      kind: 'apiservice',
      what: `APIService ${name}${state}`,
      name,
      uid: uidOf(a),
      breaks: `its service ${s.namespace}/${s.name} is gone, so discovery of ${a.spec?.group}/${a.spec?.version} fails: namespace deletions stall (the mesh namespace a removal deletes stays Terminating, and the deploy waits on it), the garbage collector stops, and Helm warns of an orphaned API service`,
      clear: kubectl('delete', 'apiservice', name),
      ...unlessMesh(a, ctx, 'delete it'),
    });
  }
  return out;
}

function pvcLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  if (ctx.phase !== 'preflight') return [];
  const claimed = scan.statefulsets.some(
    (s) =>
      s.metadata?.name === 'spire-server' &&
      (s.spec?.volumeClaimTemplates ?? []).some((t) => t.metadata?.name === 'spire-data'),
  );
  if (claimed) return [];
  return scan.pvcs
    .filter(
      (p) =>
        spirePvcPattern.test(p.metadata?.name ?? '') &&
        p.metadata?.namespace === ctx.namespace &&
        !p.metadata?.deletionTimestamp,
    )
    .map((p) => {
      const name = p.metadata!.name!;
      return {
        kind: 'spire-pvc' as const,
        what: `PersistentVolumeClaim ${ctx.namespace}/${name} (no spire-server claims it)`,
        name,
        namespace: ctx.namespace,
        uid: uidOf(p),
        breaks: `a spire-server StatefulSet deployed into ${ctx.namespace} (persistent storage on, the charts' default) adopts it and starts on a removed mesh's SPIRE datastore: its CA keys, registration entries, and the schema of an older SPIRE`,
        // The StatefulSet controller gives each claim the StatefulSet's selector labels, part-of among them (charts: spire-server matchLabels).
        clear: kubectl('delete', 'pvc', name, '-n', ctx.namespace),
        ...unlessMesh(p, ctx, 'delete it'),
      };
    });
}

/** csi-driver-sentinel Jobs of earlier removals: the chart's carries the mesh's label (post-delete-hook.yaml, sentinel.yaml). */
function sentinelLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  // One without the label elsewhere is not the mesh's and in nobody's way; in the mesh namespace it is in the way (reported).
  return scan.sentinels
    .filter((j) => !j.metadata?.deletionTimestamp && (meshEvidence(j, ctx) || j.metadata?.namespace === ctx.namespace))
    .map((j) => {
      const ns = j.metadata?.namespace ?? '';
      return {
        kind: 'sentinel-job' as const,
        what: `Job ${ns}/${sentinelJob} (from an earlier removal)`,
        name: sentinelJob,
        namespace: ns,
        uid: uidOf(j),
        breaks: `it still waits for every injected pod to go, then deletes the CSI driver pieces: after a redeploy those are the NEW mesh's; and a removal's post-delete hook cannot create its own ${sentinelJob} in ${ns} beside it`,
        clear: kubectl('delete', 'job', sentinelJob, '-n', ns),
        ...unlessMesh(j, ctx, 'delete it'),
      };
    });
}

/**
 * Pure: the leftovers in a scan, in the order they are cleared (a stuck namespace last: clearing
 * an unavailable APIService is often what unblocks it).
 */
export function classifyLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  return [
    ...webhookLeftovers(scan, ctx),
    ...apiServiceLeftovers(scan, ctx),
    ...sentinelLeftovers(scan, ctx),
    ...pvcLeftovers(scan, ctx),
    ...crdLeftovers(scan),
    ...namespaceLeftovers(scan, ctx),
  ];
}

/** One line for a leftover: what it is and what it breaks. */
export function describeLeftover(l: Leftover): string {
  return `${l.what}: ${l.breaks}`;
}

/** The identity a step matches against the approved plan: kind, namespace, name and uid. */
export function leftoverKey(l: Pick<Leftover, 'kind' | 'resource' | 'namespace' | 'name' | 'uid'>): string {
  return [l.kind, l.resource ?? '', l.namespace ?? '', l.name, l.uid ?? ''].join('/');
}
