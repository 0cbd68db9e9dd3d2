/**
 * Version numbers as NSM uses them (major.minor.patch, an optional leading v): parsing and
 * comparison, the one home for both. Dependency-free, so every layer may import it
 * (controlplane/ may not import mesh/, where the release table lives).
 */

/** A parsed semantic version (major.minor.patch; pre-release and build metadata are refused). */
export interface Version {
  major: number;
  minor: number;
  patch: number;
}

const versionPattern = /^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?$/;

/** Parses "1.7.0", "v1.7.0" or "1.7" (= 1.7.0). Returns undefined for anything else. */
export function parseVersion(text: string): Version | undefined {
  const m = versionPattern.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** "1.7.0" (no leading v). */
export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** Normalizes "v1.7" to "1.7.0"; undefined when not a version. */
export function normalizeVersion(text: string): string | undefined {
  const v = parseVersion(text);
  return v ? formatVersion(v) : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b. Throws on a non-version. */
export function compareVersions(a: string | Version, b: string | Version): number {
  const pa = typeof a === 'string' ? mustParse(a) : a;
  const pb = typeof b === 'string' ? mustParse(b) : b;
  return pa.major - pb.major || pa.minor - pb.minor || pa.patch - pb.patch;
}

/** True when `version` is at least `atLeast` (both version strings). Throws on a non-version. */
export function isAtLeast(version: string, atLeast: string): boolean {
  return compareVersions(version, atLeast) >= 0;
}

/** "1.7" for "1.7.3": the unit of an upgrade hop. */
export function minorOf(v: string | Version): string {
  const p = typeof v === 'string' ? mustParse(v) : v;
  return `${p.major}.${p.minor}`;
}

function mustParse(text: string): Version {
  const v = parseVersion(text);
  if (!v) throw new Error(`not a version: ${JSON.stringify(text)}`);
  return v;
}
