/**
 * Capturing the install's configuration for install.yaml: the Helm release's user-supplied
 * values (decoded from the newest `sh.helm.release.v1.<name>.v<N>` Secret; the Secret itself is
 * never written) and the mesh-config (1.x) / meshconfig (2.0) ConfigMap. Missing pieces are
 * reported as warnings: a backup of the custom resources never fails for lack of them.
 */
import { gunzipSync } from 'node:zlib';
import type { Kube, KubeObject } from '../kube/client.ts';
import { KubeApiError } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';

export interface HelmReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  status: string | null;
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

/** Decodes a Helm release Secret's `data.release`: base64 (Kubernetes) of base64 of gzip of JSON. */
export function decodeHelmRelease(dataRelease: string): Record<string, unknown> {
  const inner = Buffer.from(Buffer.from(dataRelease, 'base64').toString('utf8'), 'base64');
  const isGzip = inner[0] === 0x1f && inner[1] === 0x8b;
  const json = isGzip ? gunzipSync(inner, { maxOutputLength: 64 * 1024 * 1024 }) : inner;
  return JSON.parse(json.toString('utf8')) as Record<string, unknown>;
}

/** Picks the newest release Secret (highest v<N>), optionally of one release name. */
export function newestReleaseSecret(secrets: readonly KubeObject[], release?: string): KubeObject | undefined {
  let best: { s: KubeObject; n: number } | undefined;
  for (const s of secrets) {
    const m = /^sh\.helm\.release\.v1\.(.+)\.v(\d+)$/.exec(s.metadata?.name ?? '');
    if (!m || (release && m[1] !== release)) continue;
    const n = Number(m[2]);
    if (!best || n > best.n) best = { s, n };
  }
  return best?.s;
}

function describe(err: unknown): string {
  return err instanceof KubeApiError ? `${err.status} ${err.reason}` : (err as Error).message;
}

export async function captureInstall(kube: Kube, meshNamespace: string, release?: string): Promise<InstallConfig> {
  const warnings: string[] = [];
  let helmRelease: HelmReleaseInfo | null = null;
  try {
    const secrets = await listAll(kube, collectionPath(core.secrets, meshNamespace), { labelSelector: release ? `owner=helm,name=${release}` : 'owner=helm' });
    const secret = newestReleaseSecret(secrets, release);
    const data = (secret?.data as Record<string, string> | undefined)?.release;
    if (!secret || !data) warnings.push(`no Helm release Secret in namespace ${meshNamespace}: install values not captured`);
    else {
      const rel = decodeHelmRelease(data);
      const meta = ((rel.chart as Record<string, unknown> | undefined)?.metadata ?? {}) as Record<string, unknown>;
      const info = (rel.info ?? {}) as Record<string, unknown>;
      helmRelease = {
        name: String(rel.name ?? ''), namespace: String(rel.namespace ?? meshNamespace), revision: Number(rel.version ?? 0),
        status: typeof info.status === 'string' ? info.status : null,
        chart: { name: (meta.name as string) ?? null, version: (meta.version as string) ?? null, appVersion: (meta.appVersion as string) ?? null },
        values: rel.config ?? {},
      };
    }
  } catch (err) {
    warnings.push(`could not read the Helm release in ${meshNamespace} (${describe(err)}): install values not captured`);
  }
  let meshConfigMap: InstallConfig['meshConfigMap'] = null;
  for (const { name } of meshConfigMaps) {
    try {
      const cm = await kube.request<KubeObject>({ path: objectPath(core.configmaps, name, meshNamespace) });
      // The 1.x charts write mesh-config.json under binaryData (base64); decode it like data.
      const binary = Object.entries((cm.binaryData as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]);
      const data: Record<string, unknown> = { ...((cm.data as Record<string, string>) ?? {}), ...Object.fromEntries(binary) };
      for (const [k, v] of Object.entries(data)) {
        if (k.endsWith('.json') && typeof v === 'string') { try { data[k] = JSON.parse(v); } catch { /* keep the text */ } }
      }
      meshConfigMap = { name, data };
      break;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) warnings.push(`could not read ConfigMap ${meshNamespace}/${name} (${describe(err)})`);
    }
  }
  if (!meshConfigMap) warnings.push(`no mesh-config/meshconfig ConfigMap in namespace ${meshNamespace}`);
  return { helmRelease, meshConfigMap, warnings };
}
