/**
 * Helm release records as Helm stores them: Secrets `sh.helm.release.v1.<name>.v<revision>`
 * (type helm.sh/release.v1, labels owner=helm, name=<release>, version=<revision>,
 * status=<status>) whose data.release is base64 (the Secret's own encoding) of base64 of gzip of
 * the release JSON. Pure: decoding and encoding only, no I/O.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KubeObject } from '../kube/client.ts';

/** The fields of a Helm release the tool uses. */
export interface HelmRelease {
  name: string;
  namespace: string;
  /** Revision number (1, 2, ...). */
  revision: number;
  /** deployed, superseded, failed, uninstalling, pending-install, pending-upgrade, pending-rollback. */
  status: string;
  chart: { name: string; version: string; appVersion: string | undefined };
  /** The user-supplied values (`helm get values`), not the chart defaults. */
  config: Record<string, unknown>;
}

/** The chart every NSM install uses, whichever the method. */
export const meshChartName = 'nginx-service-mesh';
/** nginx-meshctl always names its release this; any other release of the chart was installed with helm. */
export const meshctlReleaseName = 'nginx-service-mesh';

/** A status in which Helm refuses further upgrades until someone rolls back or cleans up. */
export function isStuckStatus(status: string): boolean {
  return status.startsWith('pending-') || status === 'uninstalling';
}

interface ReleaseJson {
  name?: string;
  namespace?: string;
  version?: number;
  info?: { status?: string };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string } };
  config?: Record<string, unknown> | null;
}

/** The most a release's JSON may inflate to: a gzip bomb in a Secret must not exhaust the memory. */
export const maxReleaseJsonBytes = 64 * 1024 * 1024;

/**
 * Decodes a release Secret (as read from the API): the one Helm release decoder, used by
 * detection, backup (install.yaml) and the mesh-trace checks. Throws with the Secret's name
 * when malformed or larger than maxReleaseJsonBytes once inflated.
 */
export function decodeReleaseSecret(secret: KubeObject): HelmRelease {
  const name = secret.metadata?.name ?? '(unnamed)';
  const data = (secret as { data?: Record<string, string> }).data?.release;
  if (typeof data !== 'string') throw new Error(`Secret ${name} has no data.release: not a Helm release record`);
  try {
    // Layer 1: the Secret's base64. Layer 2: Helm's own base64. Then gzip (magic 1f 8b) or plain JSON.
    const helmText = Buffer.from(data, 'base64').toString('utf8');
    const raw = Buffer.from(helmText, 'base64');
    const json =
      raw[0] === 0x1f && raw[1] === 0x8b
        ? gunzipSync(raw, { maxOutputLength: maxReleaseJsonBytes }).toString('utf8')
        : raw.toString('utf8');
    const rel = JSON.parse(json) as ReleaseJson;
    return {
      name: rel.name ?? secret.metadata?.labels?.name ?? '',
      namespace: rel.namespace ?? secret.metadata?.namespace ?? '',
      revision: rel.version ?? Number(secret.metadata?.labels?.version ?? 0),
      status: rel.info?.status ?? secret.metadata?.labels?.status ?? 'unknown',
      chart: {
        name: rel.chart?.metadata?.name ?? '',
        version: rel.chart?.metadata?.version ?? '',
        appVersion: rel.chart?.metadata?.appVersion,
      },
      config: rel.config ?? {},
    };
  } catch (err) {
    throw new Error(`cannot decode Helm release Secret ${name}: ${(err as Error).message}`);
  }
}

/**
 * Encodes a release the way Helm stores it (used by tests to plant release records, and by
 * anyone who needs a faithful record without running helm). Returns the Secret object.
 */
export function encodeReleaseSecret(rel: HelmRelease): KubeObject {
  const json = JSON.stringify({
    name: rel.name,
    namespace: rel.namespace,
    version: rel.revision,
    info: { status: rel.status },
    chart: { metadata: { name: rel.chart.name, version: rel.chart.version, appVersion: rel.chart.appVersion } },
    config: rel.config,
  });
  const helmText = gzipSync(Buffer.from(json, 'utf8')).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: {
      name: `sh.helm.release.v1.${rel.name}.v${rel.revision}`,
      namespace: rel.namespace,
      labels: { owner: 'helm', name: rel.name, version: String(rel.revision), status: rel.status },
    },
    data: { release: Buffer.from(helmText, 'utf8').toString('base64') },
  };
}

/**
 * Picks, per release name, the newest revision (by revision number), then the newest release
 * of the mesh chart. Records of other charts are ignored.
 */
export function newestMeshReleases(records: readonly HelmRelease[]): HelmRelease[] {
  const newest = new Map<string, HelmRelease>();
  for (const r of records) {
    if (r.chart.name !== meshChartName) continue;
    const cur = newest.get(r.name);
    if (!cur || r.revision > cur.revision) newest.set(r.name, r);
  }
  return [...newest.values()].sort((a, b) => a.name.localeCompare(b.name));
}
