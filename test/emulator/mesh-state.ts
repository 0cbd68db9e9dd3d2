import type { Kube, KubeObject } from '../../src/kube/client.ts';
import { controlPlaneOf, type ControlPlane } from './control-plane.ts';
import { defaultInjectionConfig, injectionConfigOf, type InjectionConfig } from './inject.ts';
import type { MeshView } from './admission.ts';
import { startInformer, type Informer } from './informer.ts';

/**
 * The cluster state the webhooks answer from, kept current by watches (never a GET per
 * admission): the meshes' control-plane Deployments (version, registry, namespace), namespace
 * labels, and each 1.x mesh's mesh-config ConfigMap.
 */
export interface MeshState extends MeshView {
  readonly synced: Promise<void>;
  namespaceInScope(namespace: string): boolean;
}

export interface MeshStateOptions {
  kube: Kube;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Extra labels a private (test) instance requires on what it manages. */
  scope: Record<string, string>;
}

export function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function startMeshState(o: MeshStateOptions): MeshState {
  const planes = new Map<string, ControlPlane>();
  const common = { kube: o.kube, signal: o.signal, log: o.log };
  const deployments: Informer<KubeObject> = startInformer({
    ...common,
    path: '/apis/apps/v1/deployments',
    labelSelector: selectorOf({ 'app.kubernetes.io/part-of': 'nginx-service-mesh', ...o.scope }),
    onChange: (type, d) => {
      const cp = controlPlaneOf(d);
      if (!cp) return;
      const key = `${cp.namespace}/${cp.deployment}`;
      const before = planes.get(key);
      if (type === 'DELETED') {
        planes.delete(key);
        o.log(`control plane ${key} gone`);
      } else {
        planes.set(key, cp);
        if (before?.version !== cp.version || before.registry !== cp.registry || before.ready !== cp.ready) {
          o.log(
            `control plane ${key} is version ${cp.version} (registry ${cp.registry || '(none)'}), ${cp.ready ? 'ready' : 'not ready: its webhooks refuse calls'}`,
          );
        }
      }
    },
  });
  const namespaces = startInformer<KubeObject>({ ...common, path: '/api/v1/namespaces' });
  // 1.x only: 2.0's MeshConfig carries no injection settings (2.0 injects by label alone).
  const meshConfigs = startInformer<
    KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }
  >({
    ...common,
    path: '/api/v1/configmaps',
    fieldSelector: 'metadata.name=mesh-config',
  });

  function controlPlane(meshNamespace?: string): ControlPlane | undefined {
    const all = [...planes.values()];
    if (meshNamespace) return all.find((p) => p.namespace === meshNamespace);
    return all.length === 1 ? all[0] : (all.find((p) => p.namespace === 'nginx-mesh') ?? all[0]);
  }
  function namespaceLabels(namespace: string): Record<string, string> {
    return namespaces.items.get(`/${namespace}`)?.metadata?.labels ?? {};
  }
  function injectionConfig(meshNamespace: string): InjectionConfig {
    const cm = meshConfigs.items.get(`${meshNamespace}/mesh-config`);
    return cm ? injectionConfigOf(cm) : defaultInjectionConfig;
  }
  function namespaceInScope(namespace: string): boolean {
    const labels = namespaceLabels(namespace);
    return Object.entries(o.scope).every(([k, v]) => labels[k] === v);
  }
  return {
    synced: Promise.all([deployments.synced, namespaces.synced, meshConfigs.synced]).then(() => undefined),
    controlPlane,
    namespaceLabels,
    injectionConfig,
    namespaceInScope,
  };
}
