import type { Kube } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { startInformer, type Informer } from './informer.ts';
import {
  apiServiceCaPatch,
  belongsToMesh,
  webhookCaPatch,
  type ApiService,
  type WebhookConfiguration,
} from './ca-bundle.ts';

/**
 * Keeps the emulator's CA in the caBundle of the mesh's Service webhooks and of its aggregated
 * APIService, as the real control plane does: every install or upgrade that writes one without
 * (or with another) caBundle gets it patched in. Only the active emulator patches (leader.ts).
 */
export interface CaBundleSyncOptions {
  kube: Kube;
  caBundle: string;
  signal: AbortSignal;
  log: (line: string) => void;
  scope: Record<string, string>;
  isLeader: () => boolean;
}

type Patchable = WebhookConfiguration & ApiService;
const kinds: {
  kind: string;
  path: string;
  patch: (o: Patchable, ca: string) => { body: unknown; contentType: string } | undefined;
}[] = [
  {
    kind: 'MutatingWebhookConfiguration',
    path: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    patch: webhookPatch,
  },
  {
    kind: 'ValidatingWebhookConfiguration',
    path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
    patch: webhookPatch,
  },
  {
    kind: 'APIService',
    path: '/apis/apiregistration.k8s.io/v1/apiservices',
    patch: (o, ca) => {
      const body = apiServiceCaPatch(o, ca);
      return body && { body, contentType: 'application/merge-patch+json' };
    },
  },
];

function webhookPatch(o: Patchable, ca: string): { body: unknown; contentType: string } | undefined {
  const ops = webhookCaPatch(o, ca);
  return ops && { body: ops, contentType: 'application/json-patch+json' };
}

export function startCaBundleSync(o: CaBundleSyncOptions): { synced: Promise<void>; resync(): void } {
  const informers: Informer<Patchable>[] = [];
  const resyncs: (() => void)[] = [];
  for (const { kind, path, patch } of kinds) {
    const busy = new Set<string>();
    const again = new Set<string>();
    const informer: Informer<Patchable> = startInformer<Patchable>({
      kube: o.kube,
      path,
      signal: o.signal,
      log: o.log,
      onChange: (type, obj) => {
        if (type !== 'DELETED') void reconcile(obj.metadata?.name ?? '');
      },
    });
    informers.push(informer);
    resyncs.push(() => {
      for (const obj of informer.items.values()) void reconcile(obj.metadata?.name ?? '');
    });

    async function reconcile(name: string): Promise<void> {
      if (!name || !o.isLeader()) return;
      if (busy.has(name)) {
        again.add(name);
        return;
      }
      busy.add(name);
      try {
        const obj = informer.items.get(`/${name}`);
        if (!obj || !belongsToMesh(obj, o.scope)) return;
        const p = patch(obj, o.caBundle);
        if (!p) return;
        try {
          await o.kube.request({ method: 'PATCH', path: `${path}/${name}`, contentType: p.contentType, body: p.body });
          o.log(`patched the mesh CA into the caBundle of ${kind}/${name}`);
        } catch (err) {
          // 404: gone; 409/422: changed under us (a failed JSON-patch test): the watch brings the new one.
          if (err instanceof KubeApiError && [404, 409, 422].includes(err.status)) return;
          o.log(`error: patching the caBundle of ${kind}/${name} failed: ${(err as Error).message}`);
          setTimeout(() => {
            if (!o.signal.aborted) void reconcile(name);
          }, 2000);
        }
      } finally {
        busy.delete(name);
        if (again.delete(name)) void reconcile(name);
      }
    }
  }
  return {
    synced: Promise.all(informers.map((i) => i.synced)).then(() => undefined),
    resync: () => resyncs.forEach((r) => r()),
  };
}
