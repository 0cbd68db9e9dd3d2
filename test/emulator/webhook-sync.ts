import type { Kube } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { startInformer, type Informer } from './informer.ts';
import { belongsToMesh, rewriteWebhooks, type Target, type WebhookConfiguration } from './webhook-rewrite.ts';

/**
 * Keeps the mesh's Mutating/ValidatingWebhookConfigurations pointed at the emulator: every time
 * an install or upgrade (re)writes one with a Service clientConfig, it is replaced (PUT with the
 * seen resourceVersion; a conflict simply waits for the next watch event).
 */
export interface WebhookSyncOptions {
  kube: Kube;
  target: Target;
  signal: AbortSignal;
  log: (line: string) => void;
  scope: Record<string, string>;
  /** Only the active emulator rewrites (see leader.ts). */
  isLeader: () => boolean;
}

const kinds = [
  { kind: 'MutatingWebhookConfiguration', path: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations' },
  { kind: 'ValidatingWebhookConfiguration', path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations' },
];

export function startWebhookSync(o: WebhookSyncOptions): { synced: Promise<void>; resync(): void } {
  const informers: Informer<WebhookConfiguration>[] = [];
  const resyncs: (() => void)[] = [];
  for (const { kind, path } of kinds) {
    const busy = new Set<string>();
    const again = new Set<string>();
    const informer: Informer<WebhookConfiguration> = startInformer<WebhookConfiguration>({
      kube: o.kube, path, signal: o.signal, log: o.log,
      onChange: (type, cfg) => { if (type !== 'DELETED') void reconcile(cfg.metadata?.name ?? ''); },
    });
    informers.push(informer);
    resyncs.push(() => { for (const cfg of informer.items.values()) void reconcile(cfg.metadata?.name ?? ''); });

    async function reconcile(name: string): Promise<void> {
      if (!name || !o.isLeader()) return;
      if (busy.has(name)) { again.add(name); return; }
      busy.add(name);
      try {
        const cfg = informer.items.get(`/${name}`);
        if (!cfg || !belongsToMesh(cfg, o.scope)) return;
        const webhooks = rewriteWebhooks(cfg, o.target);
        if (!webhooks) return;
        try {
          await o.kube.request({ method: 'PUT', path: `${path}/${name}`, body: { ...cfg, webhooks } });
          o.log(`rewrote webhook config ${kind}/${name}: ${webhooks.length} webhook(s) -> ${o.target.baseUrl}`);
        } catch (err) {
          if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) return;
          o.log(`error: rewriting ${kind}/${name} failed: ${(err as Error).message}`);
          setTimeout(() => { if (!o.signal.aborted) void reconcile(name); }, 2000);
        }
      } finally {
        busy.delete(name);
        if (again.delete(name)) void reconcile(name);
      }
    }
  }
  return { synced: Promise.all(informers.map((i) => i.synced)).then(() => undefined), resync: () => resyncs.forEach((r) => r()) };
}
