import type { KubeObject } from '../../src/kube/client.ts';

/**
 * What the emulator knows about one installed mesh, learned from its control-plane Deployment
 * (nginx-mesh-api in 1.x, nginx-mesh-controller in 2.0): the mesh namespace, the image registry
 * and the version, which is the image tag (FACTS.md: there is no version label).
 */
export interface ControlPlane {
  namespace: string;
  deployment: string;
  registry: string;
  /** The version without a leading "v", e.g. "1.6.0". */
  version: string;
  major: number;
  /** A pod of it is ready: the injector and validator answer only then, as in a real mesh. */
  ready: boolean;
}

/** Deployment names that carry the mesh version, with the release line that uses each. */
export const controlPlaneDeployments: Record<string, string> = {
  'nginx-mesh-api': '1.x: the API server, injector and validator in one Deployment',
  'nginx-mesh-controller': '2.0: nginx-mesh-api renamed',
};

export interface ImageRef {
  registry: string;
  name: string;
  tag: string;
}

/**
 * Splits `registry/path/name:tag[@digest]` into registry (everything before the last path
 * segment), name and tag. A colon before the last slash is a registry port, not a tag.
 */
export function parseImage(image: string): ImageRef {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const last = noDigest.slice(slash + 1);
  const colon = last.lastIndexOf(':');
  const name = colon >= 0 ? last.slice(0, colon) : last;
  const tag = colon >= 0 ? last.slice(colon + 1) : 'latest';
  return { registry: slash >= 0 ? noDigest.slice(0, slash) : '', name, tag };
}

/** "v1.6.0" -> "1.6.0"; the major version number, or NaN when the tag is not a version. */
export function versionOfTag(tag: string): { version: string; major: number } {
  const version = tag.replace(/^v/, '');
  const m = /^(\d+)\.\d+/.exec(version);
  return { version, major: m ? Number(m[1]) : Number.NaN };
}

interface DeploymentLike extends KubeObject {
  spec?: { template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
  status?: { readyReplicas?: number; availableReplicas?: number };
}

/**
 * The control plane a Deployment describes, or undefined when it is not the mesh's
 * version-carrying Deployment. The container named like the Deployment wins; else the first
 * container whose image name matches.
 */
export function controlPlaneOf(deploy: DeploymentLike): ControlPlane | undefined {
  const name = deploy.metadata?.name ?? '';
  const namespace = deploy.metadata?.namespace ?? '';
  if (!(name in controlPlaneDeployments) || !namespace) return undefined;
  if (deploy.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'nginx-service-mesh') return undefined;
  const containers = deploy.spec?.template?.spec?.containers ?? [];
  const container =
    containers.find((c) => c.name === name) ?? containers.find((c) => c.image && parseImage(c.image).name === name);
  if (!container?.image) return undefined;
  const img = parseImage(container.image);
  const { version, major } = versionOfTag(img.tag);
  const ready = (deploy.status?.readyReplicas ?? 0) > 0 || (deploy.status?.availableReplicas ?? 0) > 0;
  return { namespace, deployment: name, registry: img.registry, version, major, ready };
}
