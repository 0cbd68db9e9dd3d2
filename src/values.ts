/**
 * Helm values (nested plain objects, as a release records them) read by dotted path. The one
 * home for it: mesh/ reads release values, controlplane/ translates them for a redeploy, and
 * upgrade/ checks them, so it imports nothing and every layer may import it.
 */

/** Reads a dotted path ("registry.imageTag") out of nested values; undefined where a step is missing or not an object. */
export function valueAt(values: Record<string, unknown>, path: string): unknown {
  let cur: unknown = values;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Sets a dotted path in nested values (in place), making each missing or non-object step an object. */
export function setValueAt(values: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let cur = values;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = v;
}
