/**
 * Clears leftovers (leftovers.ts) through the API, in the order classifyLeftovers lists them:
 * webhooks whose service is gone, unavailable APIServices, sentinel Jobs, SPIRE volumes, then the
 * unlabelled CRDs are labelled (the mesh's from now on: a removal after the backup deletes them,
 * an upgrade replaces them; their objects are never deleted here), and last the stuck namespaces:
 * the finalizers holding them are removed (their controller went with the mesh), the namespace
 * controller is nudged (it backs off after repeated discovery failures) and the tool waits until
 * they are gone. Each action is one line of the returned list (journaled by the step).
 */
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, objectPath } from '../kube/paths.ts';
import { StepError } from '../errors.ts';
import { formatCommand } from '../controlplane/runner.ts';
import { leftoverRefs } from './leftover-scan.ts';
import { partOfLabel, stuckReason, type Leftover } from './leftovers.ts';

const gone = (err: unknown) => err instanceof KubeApiError && err.status === 404;

async function del(deps: Pick<Deps, 'kube'>, path: string, query?: Record<string, string>): Promise<boolean> {
  try { await deps.kube.request({ method: 'DELETE', path, ...(query ? { query } : {}) }); return true; } catch (err) { if (gone(err)) return false; throw err; }
}

async function waitNamespaceGone(deps: Deps, name: string, timeoutMs: number, progress: (m: string) => void, signal?: AbortSignal): Promise<void> {
  const deadline = deps.clock.now() + timeoutMs;
  for (let i = 0; ; i++) {
    let ns: { status?: { conditions?: { type: string; status: string; message?: string }[] } };
    try { ns = await deps.kube.request({ path: objectPath(core.namespaces, name) }); } catch (err) { if (gone(err)) return; throw err; }
    const why = stuckReason(ns) ?? 'deleting its content';
    if (deps.clock.now() > deadline) {
      throw new StepError('clean-leftovers', `namespace ${name} is still terminating after ${Math.round(timeoutMs / 1000)}s: ${why}`, `See what holds it: kubectl get namespace ${name} -o yaml (status.conditions); clear that, then resume.`);
    }
    // The namespace controller retries a failed deletion with a growing back-off; an update to the namespace requeues it now.
    if (i % 10 === 0) await deps.kube.request({ method: 'PATCH', path: objectPath(core.namespaces, name), body: { metadata: { annotations: { 'nsm-upgrade.nginx.com/leftover-cleared': new Date(deps.clock.now()).toISOString() } } } }).catch(() => undefined);
    progress(`waiting for namespace ${name} to be deleted (${why})`);
    await deps.clock.sleep(1000, signal);
  }
}

/** Clears each leftover; returns one line per thing done. */
export async function clearLeftovers(deps: Deps, leftovers: readonly Leftover[], opts: { timeoutMs: number; progress: (m: string) => void; signal?: AbortSignal }): Promise<string[]> {
  const done: string[] = [];
  const note = (line: string) => { done.push(line); opts.progress(line); };
  for (const l of leftovers) {
    switch (l.kind) {
      case 'webhook':
        if (await del(deps, objectPath(leftoverRefs[l.resource ?? 'mutatingwebhookconfigurations'], l.name))) note(`deleted ${l.what}`);
        break;
      case 'apiservice':
        if (await del(deps, objectPath(leftoverRefs.apiservices, l.name))) note(`deleted APIService ${l.name}`);
        break;
      case 'sentinel-job':
        // Background propagation: its pod goes too (a bare DELETE of a Job orphans its pods).
        if (await del(deps, objectPath(core.jobs, l.name, l.namespace), { propagationPolicy: 'Background' })) note(`deleted ${l.what}`);
        break;
      case 'spire-pvc':
        if (await del(deps, objectPath(leftoverRefs.pvcs, l.name, l.namespace))) note(`deleted PersistentVolumeClaim ${l.namespace}/${l.name}`);
        break;
      case 'crd-unlabelled':
        await deps.kube.request({ method: 'PATCH', path: objectPath(core.crds, l.name), body: { metadata: { labels: { [partOfLabel.key]: partOfLabel.value } } } });
        note(`labelled CRD ${l.name} ${partOfLabel.key}=${partOfLabel.value} (the mesh's now: a removal deletes it after the backup, an upgrade replaces it)`);
        break;
      case 'terminating-namespace':
        for (const h of l.holders ?? []) {
          try {
            await deps.kube.request({ method: 'PATCH', path: h.path, body: { metadata: { finalizers: null } } });
            note(`removed finalizers ${h.finalizers.join(', ')} of ${h.resource}/${h.name} in ${l.name}`);
          } catch (err) { if (!gone(err)) throw err; }
        }
        await waitNamespaceGone(deps, l.name, opts.timeoutMs, opts.progress, opts.signal);
        note(`namespace ${l.name} is gone`);
        break;
    }
  }
  return done;
}

/** The refusal text for leftovers a step found but may not clear: each, what it breaks, and its command. */
export function leftoverList(leftovers: readonly Leftover[]): string {
  return leftovers.map((l) => `  - ${l.what}: ${l.breaks}\n    clear it: ${formatCommand(l.clear)}`).join('\n');
}
