/**
 * Capturing the install's configuration for install.yaml: the user-supplied values of the mesh
 * chart's Helm release (its newest revision, decoded from Helm's release Secrets by
 * mesh/release.ts; the Secret itself is never written) and the mesh-config (1.x) / meshconfig
 * (2.0) ConfigMap. Missing pieces are reported as warnings: a backup of the custom resources
 * never fails for lack of them.
 */
import type { Kube, KubeObject } from '../kube/client.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, objectPath } from '../kube/paths.ts';
import { findMeshReleases } from '../mesh/detect.ts';
import { meshChartName, type HelmRelease } from '../mesh/release.ts';

export interface HelmReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chart: { name: string | null; version: string | null; appVersion: string | null };
  values: unknown;
}

export interface InstallConfig {
  helmRelease: HelmReleaseInfo | null;
  meshConfigMap: { name: string; data: Record<string, unknown> } | null;
  warnings: string[];
}

/** ConfigMaps that hold the runtime mesh configuration, by release line. */
const meshConfigMaps: readonly { name: string; reason: string }[] = [
  { name: 'mesh-config', reason: '1.x: key mesh-config.json' },
  { name: 'meshconfig', reason: '2.0' },
];

/** install.yaml's record of a release (chart fields the release lacks are null). */
function releaseInfo(rel: HelmRelease, meshNamespace: string): HelmReleaseInfo {
  return {
    name: rel.name,
    namespace: rel.namespace || meshNamespace,
    revision: rel.revision,
    status: rel.status,
    chart: {
      name: rel.chart.name || null,
      version: rel.chart.version || null,
      appVersion: rel.chart.appVersion ?? null,
    },
    values: rel.config,
  };
}

function describe(err: unknown): string {
  return err instanceof KubeApiError ? `${err.status} ${err.reason}` : (err as Error).message;
}

export async function captureInstall(kube: Kube, meshNamespace: string, release?: string): Promise<InstallConfig> {
  const warnings: string[] = [];
  let helmRelease: HelmReleaseInfo | null = null;
  try {
    // The newest revision of each mesh-chart release (undecodable Secrets are warned about);
    // of those, the named release, else the one with the highest revision.
    const releases = (await findMeshReleases({ kube }, meshNamespace, warnings)).filter(
      (r) => !release || r.name === release,
    );
    const rel = releases.reduce<HelmRelease | undefined>(
      (best, r) => (!best || r.revision > best.revision ? r : best),
      undefined,
    );
    if (!rel)
      warnings.push(
        `no Helm release${release ? ` "${release}"` : ''} of chart ${meshChartName} in namespace ${meshNamespace}: install values not captured`,
      );
    else helmRelease = releaseInfo(rel, meshNamespace);
  } catch (err) {
    warnings.push(
      `could not read the Helm release in ${meshNamespace} (${describe(err)}): install values not captured`,
    );
  }
  let meshConfigMap: InstallConfig['meshConfigMap'] = null;
  for (const { name } of meshConfigMaps) {
    try {
      const cm = await kube.request<KubeObject>({ path: objectPath(core.configmaps, name, meshNamespace) });
      // The 1.x charts write mesh-config.json under binaryData (base64); decode it like data.
      const binary = Object.entries((cm.binaryData as Record<string, string> | undefined) ?? {}).map(
        ([k, v]): [string, string] => [k, Buffer.from(v, 'base64').toString('utf8')],
      );
      const data: Record<string, unknown> = {
        ...((cm.data as Record<string, string> | undefined) ?? {}),
        ...Object.fromEntries(binary),
      };
      for (const [k, v] of Object.entries(data)) {
        if (k.endsWith('.json') && typeof v === 'string') {
          try {
            data[k] = JSON.parse(v);
          } catch {
            /* keep the text */
          }
        }
      }
      meshConfigMap = { name, data };
      break;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404))
        warnings.push(`could not read ConfigMap ${meshNamespace}/${name} (${describe(err)})`);
    }
  }
  if (!meshConfigMap) warnings.push(`no mesh-config/meshconfig ConfigMap in namespace ${meshNamespace}`);
  return { helmRelease, meshConfigMap, warnings };
}
