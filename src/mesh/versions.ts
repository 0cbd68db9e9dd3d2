/**
 * NSM version rules as data: the release table (with chart versions) and the next-hop rule.
 * Version notes (what changes at which release) are in version-notes.ts; parsing and comparing
 * version numbers in src/version-compare.ts.
 *
 * Source: nsm-reference/FACTS.md ("Releases and upgrade rules") and the charts' Chart.yaml.
 */
import { compareVersions, minorOf, normalizeVersion } from '../version-compare.ts';

/** One NSM release. */
export interface Release {
  version: string;
  released: string;
  /** Version of the nginx-stable/nginx-service-mesh chart that ships it; undefined where not recorded. */
  chartVersion: string | undefined;
  /** Why the row is here and what is special about it. */
  reason: string;
}

/** Every NSM release, oldest first. The tool plans hops to 1.5.0 and later (chart versions known). */
export const releases: readonly Release[] = [
  {
    version: '1.0.0',
    released: '2021-05-04',
    chartVersion: undefined,
    reason: 'first GA release; listed so installed versions are recognised',
  },
  {
    version: '1.1.0',
    released: '2021-06-29',
    chartVersion: undefined,
    reason: 'listed so installed versions are recognised',
  },
  {
    version: '1.2.0',
    released: '2021-09-14',
    chartVersion: undefined,
    reason: 'RateLimit v1alpha2 becomes the storage version',
  },
  { version: '1.2.1', released: '2021-10-11', chartVersion: undefined, reason: 'patch release' },
  {
    version: '1.3.0',
    released: '2021-11-16',
    chartVersion: undefined,
    reason: 'listed so installed versions are recognised',
  },
  { version: '1.3.1', released: '2021-11-22', chartVersion: undefined, reason: 'patch release' },
  {
    version: '1.4.0',
    released: '2022-02-23',
    chartVersion: undefined,
    reason: 'oldest release the tool upgrades from (hop 1.4 -> 1.5)',
  },
  { version: '1.4.1', released: '2022-05-26', chartVersion: undefined, reason: 'patch release; last 1.4' },
  {
    version: '1.5.0',
    released: '2022-07-26',
    chartVersion: '0.5.0',
    reason: 'removes bundled Prometheus/Grafana/tracing; HTTPRouteGroup headers become an object',
  },
  { version: '1.6.0', released: '2022-11-01', chartVersion: '0.6.0', reason: 'in-place upgrade from 1.5' },
  {
    version: '1.7.0',
    released: '2023-02-14',
    chartVersion: '0.7.0',
    reason: 'drops non-OpenTelemetry tracing; OpenShift CSI driver renamed (manual upgrade there)',
  },
  {
    version: '2.0.0',
    released: '2023-04-25',
    chartVersion: '2.0.0',
    reason: 'last release: MeshConfig CRD, nginx-mesh-controller, auto-injection opt-in',
  },
];

/** The oldest installed version the tool plans from: older meshes must first reach 1.4 by hand. */
export const oldestSupportedSource = '1.4.0';

/** The release row for an exact version, or undefined. */
export function findRelease(version: string): Release | undefined {
  const v = normalizeVersion(version);
  return v === undefined ? undefined : releases.find((r) => r.version === v);
}

/** The newest patch release of each minor, in order: the stops a chain of hops makes. */
export function minorStops(): Release[] {
  const byMinor = new Map<string, Release>();
  for (const r of releases) byMinor.set(minorOf(r.version), r); // later rows (newer patches) win
  return [...byMinor.values()];
}

/**
 * The next hop from `from` toward `to`: upgrades go only from the minor immediately before
 * (1.5 -> 1.6, never 1.5 -> 1.7). Within the target's minor the hop lands on `to` itself;
 * otherwise on the newest patch of the next minor. Undefined when `from` >= `to`.
 */
export function nextHop(from: string, to: string): string | undefined {
  if (compareVersions(from, to) >= 0) return undefined;
  if (minorOf(from) === minorOf(to)) return normalizeVersion(to);
  const next = minorStops().find((r) => compareVersions(minorOf(r.version) + '.0', minorOf(from) + '.0') > 0);
  if (!next) return undefined;
  return minorOf(next.version) === minorOf(to) ? normalizeVersion(to) : next.version;
}

/** Every hop from `from` to `to`, as [from, to] pairs; empty when from >= to. */
export function hopsBetween(from: string, to: string): { from: string; to: string }[] {
  const hops: { from: string; to: string }[] = [];
  let cur = normalizeVersion(from);
  while (cur !== undefined) {
    const next = nextHop(cur, to);
    if (next === undefined) break;
    hops.push({ from: cur, to: next });
    cur = next;
  }
  return hops;
}

/** True when the hop from -> to crosses into `boundary` (from < boundary <= to). */
export function crosses(hop: { from: string; to: string }, boundary: string): boolean {
  return compareVersions(hop.from, boundary) < 0 && compareVersions(hop.to, boundary) >= 0;
}
