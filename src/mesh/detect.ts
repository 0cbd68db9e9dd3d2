/**
 * Detects the installed mesh: namespace, version (the control plane's image tag, cross-checked
 * with the Helm release), install method and release, environment, values and release status.
 * Reads only; everything it doubts goes into `warnings`.
 */
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import {
  decodeReleaseSecret,
  isStuckStatus,
  meshChartName,
  meshctlReleaseName,
  newestMeshReleases,
  type HelmRelease,
} from './release.ts';
import { controlPlaneDeployments, type Environment } from './version-notes.ts';
import { normalizeVersion } from '../version-compare.ts';
import { markSecrets } from '../secret.ts';

export type InstallMethod = 'meshctl' | 'helm';

/** What is installed, as detect found it. The planner's input (with the user's options). */
export interface Install {
  namespace: string;
  /** The running version (control-plane image tag), normalized "1.6.0". */
  version: string;
  method: InstallMethod;
  /** The Helm release (meshctl's is always nginx-service-mesh); undefined when none was found. */
  release: string | undefined;
  releaseRevision: number | undefined;
  /** Helm status of the newest revision (deployed, failed, pending-upgrade, ...). */
  releaseStatus: string | undefined;
  /** True when the release is in a pending-* (or uninstalling) state: Helm refuses to upgrade it. */
  releaseStuck: boolean;
  chartVersion: string | undefined;
  environment: Environment;
  /** The user-supplied values of the release (empty when no release was found). */
  values: Record<string, unknown>;
  /** The control plane's main Deployment and its image, when found. */
  controlPlane: { deployment: string; image: string } | undefined;
  /** Doubts found while detecting (disagreements, missing pieces), for the user to read. */
  warnings: string[];
}

export interface DetectOptions {
  meshNamespace?: string | undefined;
  method?: 'auto' | InstallMethod | undefined;
  release?: string | undefined;
}

interface Deployment extends KubeObject {
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

/**
 * The tag of an image reference: `nginx/nginx-mesh-sidecar:1.7.0` -> `1.7.0`,
 * `registry:5000/x/sidecar:v2.0.0@sha256:..` -> `2.0.0` (a leading v is dropped, as NSM tags have none).
 * The one reader of image tags: detection here, the sidecar and control-plane versions in workloads/.
 */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon <= lastSlash) return undefined; // the colon belongs to a registry port, not a tag
  const tag = withoutDigest.slice(colon + 1);
  return tag ? tag.replace(/^v(?=\d)/, '') : undefined;
}

/** The version in an image reference's tag ("docker-registry.nginx.com/nsm/nginx-mesh-api:1.6.0"); undefined when the tag is not one. */
export function imageVersion(image: string): string | undefined {
  const tag = imageTag(image);
  return tag === undefined ? undefined : normalizeVersion(tag);
}

async function getOrUndefined<T>(deps: Deps, path: string): Promise<T | undefined> {
  try {
    return await deps.kube.request<T>({ path });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

async function findControlPlane(deps: Deps, ns: string): Promise<{ deployment: string; image: string } | undefined> {
  for (const name of controlPlaneDeployments) {
    const d = await getOrUndefined<Deployment>(deps, objectPath(core.deployments, name, ns));
    if (!d) continue;
    const containers = d.spec?.template?.spec?.containers ?? [];
    const c = containers.find((x) => x.name === name || (x.image ?? '').includes(`/${name}:`)) ?? containers[0];
    if (c?.image) return { deployment: name, image: c.image };
  }
  return undefined;
}

/** The newest revision of each release of the mesh chart in `ns`; undecodable Secrets go to `warnings`. */
export async function findMeshReleases(
  deps: Pick<Deps, 'kube'>,
  ns: string,
  warnings: string[],
): Promise<HelmRelease[]> {
  const secrets = await listAll(deps.kube, collectionPath(core.secrets, ns), { labelSelector: 'owner=helm' });
  const decoded: HelmRelease[] = [];
  for (const s of secrets) {
    try {
      decoded.push(decodeReleaseSecret(s));
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  return newestMeshReleases(decoded);
}

async function servesOpenShiftApi(deps: Deps): Promise<boolean> {
  return (await getOrUndefined(deps, '/apis/security.openshift.io')) !== undefined;
}

function pickRelease(releases: HelmRelease[], opts: DetectOptions, ns: string): HelmRelease | undefined {
  if (opts.release) {
    const r = releases.find((x) => x.name === opts.release);
    if (!r) {
      const found = releases.map((x) => x.name).join(', ') || 'none';
      throw new UsageError(
        `no Helm release "${opts.release}" of chart ${meshChartName} in namespace "${ns}" (found: ${found})`,
        'Check --release (or leave it out to detect the release) and --mesh-namespace.',
      );
    }
    return r;
  }
  if (releases.length > 1) {
    throw new UsageError(
      `namespace "${ns}" holds ${releases.length} releases of chart ${meshChartName}: ${releases.map((r) => r.name).join(', ')}`,
      'Pass --release NAME to say which one to upgrade.',
    );
  }
  return releases[0];
}

/** Finds the mesh in --mesh-namespace (default nginx-mesh). No mesh: UsageError (exit 2). */
export async function detectInstall(deps: Deps, opts: DetectOptions = {}): Promise<Install> {
  const namespace = opts.meshNamespace ?? 'nginx-mesh';
  const warnings: string[] = [];
  const [controlPlane, releases, openshiftApi] = await Promise.all([
    findControlPlane(deps, namespace),
    findMeshReleases(deps, namespace, warnings),
    servesOpenShiftApi(deps),
  ]);
  if (!controlPlane && releases.length === 0) {
    throw new UsageError(
      `no NGINX Service Mesh found in namespace "${namespace}": no Deployment ${controlPlaneDeployments.join(' or ')} and no Helm release of chart ${meshChartName}`,
      'Pass --mesh-namespace NAMESPACE if the mesh was deployed to another namespace.',
    );
  }
  const rel = pickRelease(releases, opts, namespace);
  const imageVer = controlPlane ? imageVersion(controlPlane.image) : undefined;
  const relVer = rel ? normalizeVersion(rel.chart.appVersion ?? '') : undefined;
  if (controlPlane && !imageVer)
    warnings.push(`cannot read a version from image ${controlPlane.image} of Deployment ${controlPlane.deployment}`);
  if (!controlPlane)
    warnings.push(
      `no control-plane Deployment (${controlPlaneDeployments.join(' / ')}) in "${namespace}": version taken from Helm release ${rel?.name}`,
    );
  if (!rel)
    warnings.push(
      `no Helm release of chart ${meshChartName} in "${namespace}": assuming nginx-meshctl; pass --method and --release if that is wrong`,
    );
  if (imageVer && relVer && imageVer !== relVer) {
    warnings.push(
      `control plane runs ${imageVer} but Helm release ${rel?.name} records chart ${rel?.chart.version} (app ${relVer}): an upgrade was interrupted or rolled back; using ${imageVer}`,
    );
  }
  const version = imageVer ?? relVer;
  if (!version) {
    throw new UsageError(
      `cannot tell which NGINX Service Mesh version runs in "${namespace}"`,
      'Check that the control plane image carries a version tag, or that the Helm release is intact.',
    );
  }
  // Credentials in the values (a registry password) travel as Secret: never printed or journaled.
  const values = markSecrets(rel?.config ?? {});
  const envValue = values.environment;
  const environment: Environment = envValue === 'openshift' ? 'openshift' : 'kubernetes';
  if (envValue !== undefined && envValue !== 'openshift' && envValue !== 'kubernetes') {
    warnings.push(
      `release value environment=${JSON.stringify(envValue)} is not kubernetes or openshift; treating it as kubernetes`,
    );
  }
  if (openshiftApi && environment !== 'openshift') {
    warnings.push(
      "the cluster serves security.openshift.io (OpenShift?) but the install's values say environment kubernetes; planning for kubernetes",
    );
  } else if (!openshiftApi && environment === 'openshift') {
    warnings.push(
      "the install's values say environment openshift but the cluster does not serve security.openshift.io; planning for openshift",
    );
  }
  const detectedMethod: InstallMethod = !rel || rel.name === meshctlReleaseName ? 'meshctl' : 'helm';
  const method = opts.method && opts.method !== 'auto' ? opts.method : detectedMethod;
  if (method !== detectedMethod) warnings.push(`--method ${method} overrides the detected method ${detectedMethod}`);
  return {
    namespace,
    version,
    method,
    release: rel?.name ?? (method === 'meshctl' ? meshctlReleaseName : opts.release),
    releaseRevision: rel?.revision,
    releaseStatus: rel?.status,
    releaseStuck: rel ? isStuckStatus(rel.status) : false,
    chartVersion: rel?.chart.version,
    environment,
    values,
    controlPlane,
    warnings,
  };
}
