/**
 * Objects for the data-plane integration tests and benchmarks: a fake control plane (an
 * nginx-mesh-api Deployment whose image tag is the mesh version) and workloads whose pod template
 * already looks like an injected pod (no webhook needed). Created through the real API server.
 */
import type { Kube } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath, type ResourceRef } from '../../src/kube/paths.ts';
import { waitFor } from '../support/wait.ts';

export interface TemplateOptions {
  /** Never Ready under the local cluster's KWOK stages (test/cluster/kwok-stages.yaml). */
  neverReady?: boolean;
  /** Sidecar image tag, the mesh version that "injected" the pod. */
  version: string;
}

/** A pod template as the NSM injector leaves pods: annotation, spiffe label, nginx-mesh-sidecar container. */
export function injectedTemplate(app: string, opts: TemplateOptions) {
  return {
    metadata: {
      labels: {
        app,
        'spiffe.io/spiffeid': 'true',
        // keeps a mesh emulator that another test may have running from re-injecting these pods
        'injector.nsm.nginx.com/auto-inject': 'disabled',
        ...(opts.neverReady ? { 'nsm-upgrade.test/never-ready': 'true' } : {}),
      },
      annotations: { 'injector.nsm.nginx.com/status': 'injected' },
    },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.27' },
        { name: 'nginx-mesh-sidecar', image: `nginx/nginx-mesh-sidecar:${opts.version}` },
      ],
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 0,
    },
  };
}

export function deployment(name: string, opts: TemplateOptions & { replicas?: number; paused?: boolean }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 1,
      paused: opts.paused ?? false,
      selector: { matchLabels: { app: name } },
      template: injectedTemplate(name, opts),
    },
  };
}

export function statefulSet(name: string, opts: TemplateOptions & { replicas?: number; onDelete?: boolean }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 1,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: opts.onDelete ? 'OnDelete' : 'RollingUpdate' },
      selector: { matchLabels: { app: name } },
      template: injectedTemplate(name, opts),
    },
  };
}

export function daemonSet(name: string, opts: TemplateOptions & { onDelete?: boolean }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      updateStrategy: { type: opts.onDelete ? 'OnDelete' : 'RollingUpdate' },
      selector: { matchLabels: { app: name } },
      template: injectedTemplate(name, opts),
    },
  };
}

export function barePod(name: string, opts: TemplateOptions) {
  const t = injectedTemplate(name, opts);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...t.metadata }, spec: t.spec };
}

/** The control plane the skew report reads: Deployment nginx-mesh-api with the mesh version as tag. */
export function fakeControlPlane(version: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'nginx-mesh-api',
      labels: { 'app.kubernetes.io/name': 'nginx-mesh-api', 'app.kubernetes.io/part-of': 'nginx-service-mesh' },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'nginx-mesh-api' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'nginx-mesh-api' } },
        spec: {
          containers: [{ name: 'nginx-mesh-api', image: `docker-registry.nginx.com/nsm/nginx-mesh-api:${version}` }],
          tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  };
}

const refs: Record<string, ResourceRef> = {
  Deployment: core.deployments,
  StatefulSet: core.statefulsets,
  DaemonSet: core.daemonsets,
  Pod: core.pods,
};

export async function createNamespace(kube: Kube, name: string, labels: Record<string, string> = {}): Promise<void> {
  await kube.request({
    method: 'POST',
    path: collectionPath(core.namespaces),
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
  });
}

export async function deleteNamespace(kube: Kube, name: string): Promise<void> {
  await kube.request({ method: 'DELETE', path: objectPath(core.namespaces, name) }).catch(() => undefined);
}

export async function create(kube: Kube, namespace: string, obj: { kind: string }): Promise<void> {
  await kube.request({ method: 'POST', path: collectionPath(refs[obj.kind]!, namespace), body: obj });
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs` naming `what`. */
export function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  return waitFor(what, async () => (await check()) || undefined, { timeoutMs });
}
