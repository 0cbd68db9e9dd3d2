/**
 * Plants what detection reads, in a namespace of its own: the control plane's main Deployment
 * (image tag = version) and Helm release Secrets encoded as Helm stores them. Used by the
 * detect, preflight and plan-cli integration tests (the real stand-ins need no more than this).
 */
import { encodeReleaseSecret, type HelmRelease } from '../../src/mesh/release.ts';
import { collectionPath, core } from '../../src/kube/paths.ts';
import { kubectl, testKube } from '../support/cluster.ts';

export interface PlantOptions {
  version?: string | undefined;
  /** Deployment name; default by version (nginx-mesh-api before 2.0). Null: no Deployment. */
  deployment?: string | null;
  releases?: Partial<HelmRelease>[];
}

export function deploymentManifest(ns: string, name: string, version: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: ns,
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'nginx-service-mesh' },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': name } },
        spec: { containers: [{ name, image: `docker-registry.nginx.com/nsm/${name}:${version}` }] },
      },
    },
  };
}

export function release(ns: string, over: Partial<HelmRelease> = {}): HelmRelease {
  const appVersion = over.chart?.appVersion ?? '1.6.0';
  return {
    name: 'nginx-service-mesh',
    namespace: ns,
    revision: 1,
    status: 'deployed',
    chart: {
      name: 'nginx-service-mesh',
      version: appVersion === '2.0.0' ? '2.0.0' : `0.${appVersion.split('.')[1]}.0`,
      appVersion,
    },
    config: {},
    ...over,
  };
}

export async function plantMesh(ns: string, opts: PlantOptions = {}): Promise<void> {
  const kube = await testKube();
  const version = opts.version ?? '1.6.0';
  await kubectl(['create', 'namespace', ns]);
  const name =
    opts.deployment === undefined
      ? version.startsWith('2.')
        ? 'nginx-mesh-controller'
        : 'nginx-mesh-api'
      : opts.deployment;
  if (name)
    await kube.request({
      method: 'POST',
      path: collectionPath(core.deployments, ns),
      body: deploymentManifest(ns, name, version),
    });
  for (const r of opts.releases ?? []) {
    await kube.request({
      method: 'POST',
      path: collectionPath(core.secrets, ns),
      body: encodeReleaseSecret(release(ns, r)),
    });
  }
}

/** Waits until every Deployment in `ns` is available (KWOK runs the pods). */
export async function waitAvailable(ns: string): Promise<void> {
  await kubectl(['wait', '--for=condition=Available', 'deployment', '--all', '-n', ns, '--timeout=120s']);
}

export async function dropNamespace(ns: string): Promise<void> {
  await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], { reject: false });
}
