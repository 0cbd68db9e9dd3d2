/**
 * Stuck terminating namespaces that held a mesh (leftovers.ts): when one is stuck, and what the
 * tool may do about it. Pure. The objects whose finalizers hold it ("holders") are cleared only of
 * the mesh's own finalizers (mesh-ownership.ts: a SpiffeID's, set by the mesh's SPIRE registrar,
 * which went with the mesh); Kubernetes' own finalizers clear themselves; a finalizer of any other
 * controller (a cloud load balancer's, a PersistentVolume's, a user's operator's) is reported with
 * its object and controller, and the tool refuses to clear the namespace.
 */
import { describeFinalizers, finalizerOwner, foreignFinalizers, selfClearingFinalizers } from './mesh-ownership.ts';
import type { Holder, Leftover, LeftoverScan, NamespaceObj, ScanContext } from './types.ts';

export function stuckReason(ns: NamespaceObj): string | undefined {
  const conds = ns.status?.conditions ?? [];
  const on = (type: string) => conds.find((c) => c.type === type && c.status === 'True');
  const discovery = on('NamespaceDeletionDiscoveryFailure') ?? on('NamespaceDeletionGroupVersionParsingFailure');
  if (discovery) return discovery.message ?? discovery.reason ?? discovery.type;
  const content = on('NamespaceDeletionContentFailure');
  if (content) return content.message ?? content.reason ?? content.type;
  const fin = on('NamespaceFinalizersRemaining');
  if (fin && finalizersIn(fin.message ?? '').some((f) => !(f in selfClearingFinalizers)))
    return fin.message ?? fin.type;
  return undefined;
}

/** "Some content in the namespace has finalizers remaining: a/b in 1 resource instances, c in 2 ..." -> ["a/b", "c"]. */
export function finalizersIn(message: string): string[] {
  const list = message.split('remaining:')[1] ?? '';
  return list
    .split(',')
    .map((p) =>
      p
        .trim()
        .split(/\s+in\s+\d+\s+resource/)[0]!
        .trim(),
    )
    .filter(Boolean);
}

/** "Some resources are remaining: configmaps. has 1 resource instances, ratelimits.specs.smi.nginx.com has 2 ..." -> [{resource, group}]. */
export function remainingResources(message: string): { resource: string; group: string }[] {
  const list = message.split('remaining:')[1] ?? '';
  return list
    .split(',')
    .map((p) =>
      p
        .trim()
        .split(/\s+has\s+\d+/)[0]!
        .trim(),
    )
    .filter(Boolean)
    .map((gr) => {
      const dot = gr.indexOf('.');
      return dot < 0 ? { resource: gr, group: '' } : { resource: gr.slice(0, dot), group: gr.slice(dot + 1) };
    });
}

/** Pure: the finalizers the tool removes from a holder (the mesh's own on their kind), and those it keeps. */
export function meshFinalizersOf(h: Holder): { strip: string[]; keep: string[] } {
  const strip = h.finalizers.filter((f) => finalizerOwner(f, h.resource).owner === 'mesh');
  return { strip, keep: h.finalizers.filter((f) => !strip.includes(f)) };
}

/** Holders with a finalizer of another controller, for the refusal: "services/lb (x (set by ...))". */
function foreignHolders(holders: readonly Holder[]): string[] {
  return holders.flatMap((h) => {
    const foreign = foreignFinalizers(h.finalizers, h.resource);
    return foreign.length ? [`${h.resource}/${h.name} (${describeFinalizers(foreign)})`] : [];
  });
}

const kubectl = (...args: string[]) => ({ bin: 'kubectl', args });

export function namespaceLeftovers(scan: LeftoverScan, ctx: ScanContext): Leftover[] {
  const out: Leftover[] = [];
  for (const { ns, holders, releases = [], objects = [] } of scan.terminating) {
    const name = ns.metadata?.name ?? '';
    // Preflight: the installed mesh's own namespace being deleted is not a leftover (the control-plane check sees it).
    if (ctx.phase === 'preflight' && name === ctx.namespace) continue;
    // One merely being deleted is gone in a moment (the deploy waits for what is left of a mesh): only a stuck deletion is a leftover.
    const stuck = stuckReason(ns);
    if (!stuck) continue;
    const foreign = foreignHolders(holders);
    const first = holders.find((h) => meshFinalizersOf(h).strip.length > 0);
    const remaining = first && meshFinalizersOf(first).keep;
    const clear =
      foreign.length || !first
        ? kubectl('get', 'namespace', name, '-o', 'yaml')
        : kubectl(
            'patch',
            first.resource,
            first.name,
            '-n',
            name,
            '--type',
            'merge',
            '-p',
            JSON.stringify({ metadata: { finalizers: remaining?.length ? remaining : null } }),
          );
    const held = holders.length
      ? `; held by ${holders.map((h) => `${h.resource}/${h.name} (${h.finalizers.join(', ')})`).join(', ')}`
      : '';
    const effect = releases.length
      ? `it still holds Helm release ${releases.join(', ')} of the mesh chart: nginx-meshctl deploy refuses while one exists in any namespace ("found existing release")`
      : name === ctx.namespace
        ? 'the mesh is deployed into it, and nothing can be created in a namespace being deleted'
        : `it held a mesh (${objects.join(', ')} remains): a mesh deployed into it cannot start until it is gone`;
    out.push({
      kind: 'terminating-namespace',
      what: `namespace ${name} (Terminating, stuck)`,
      name,
      uid: ns.metadata?.uid as string | undefined,
      holders,
      breaks: `${effect}; its deletion is stuck: ${stuck}${held}${holders.length || foreign.length ? '' : ' (clear the unavailable APIService listed, or remove the finalizers the conditions name)'}`,
      clear,
      ...(foreign.length
        ? {
            foreign: `its deletion waits on finalizers of other controllers, which the tool never removes: ${foreign.join('; ')}. Let those controllers finish (or remove the objects' finalizers yourself once you know what they guard)`,
          }
        : {}),
    });
  }
  return out;
}
