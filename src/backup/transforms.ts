/**
 * Version-aware transforms applied to backed-up objects before they are re-created, as a table
 * with the reason beside each row. A row applies when the backup's mesh version is before
 * `fromBefore` and the target's is at least `toAtLeast`; when either version is unknown (or not
 * a version number), the object's own shape decides (`needed`), so a transform never touches an
 * object already in the new shape. Pure.
 */
import type { KubeObject } from '../kube/client.ts';
import { isAtLeast, normalizeVersion } from '../version-compare.ts';

export interface Transform {
  id: string;
  kind: string;
  fromBefore: string;
  toAtLeast: string;
  reason: string;
  /** Is the object in the old shape? */
  needed(obj: KubeObject): boolean;
  /** Returns the object in the new shape (a copy). */
  apply(obj: KubeObject): KubeObject;
}

type Match = { headers?: unknown; [k: string]: unknown };
const matchesOf = (obj: KubeObject): Match[] => {
  const m = (obj.spec as { matches?: unknown } | undefined)?.matches;
  return Array.isArray(m) ? (m as Match[]) : [];
};

/** [{x-a: "1"}, {name: "x-b", value: "2"}] -> {x-a: "1", x-b: "2"}; a later duplicate wins. */
export function headersListToObject(list: readonly unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const rec = item as Record<string, unknown>;
    const keys = Object.keys(rec);
    if (keys.length === 2 && typeof rec.name === 'string' && 'value' in rec) out[rec.name] = String(rec.value);
    else for (const k of keys) out[k] = String(rec[k]);
  }
  return out;
}

export const transforms: readonly Transform[] = [
  {
    id: 'httproutegroup-headers-list-to-object',
    kind: 'HTTPRouteGroup',
    fromBefore: '1.5.0',
    toAtLeast: '1.5.0',
    reason:
      'NSM 1.5 changed HTTPRouteGroup spec.matches[].headers from a list of single-key maps to one object; the 1.5 CRD schema rejects the list',
    needed: (obj) => matchesOf(obj).some((m) => Array.isArray(m.headers)),
    apply: (obj) => {
      const copy = structuredClone(obj);
      for (const m of matchesOf(copy)) if (Array.isArray(m.headers)) m.headers = headersListToObject(m.headers);
      return copy;
    },
  },
];

export interface TransformContext {
  /** Mesh version of the backup (manifest.meshVersion), if known. */
  from: string | null | undefined;
  /** Mesh version being restored into, if known. */
  to: string | null | undefined;
}

function applies(t: Transform, ctx: TransformContext): boolean {
  const from = ctx.from ? normalizeVersion(ctx.from) : undefined;
  const to = ctx.to ? normalizeVersion(ctx.to) : undefined;
  if (from && isAtLeast(from, t.fromBefore)) return false;
  if (to && !isAtLeast(to, t.toAtLeast)) return false;
  return true;
}

/** Applies every matching transform; returns the object and the ids applied. */
export function transformForRestore(obj: KubeObject, ctx: TransformContext): { obj: KubeObject; applied: string[] } {
  let cur = obj;
  const applied: string[] = [];
  for (const t of transforms) {
    if (t.kind !== obj.kind || !applies(t, ctx) || !t.needed(cur)) continue;
    cur = t.apply(cur);
    applied.push(t.id);
  }
  return { obj: cur, applied };
}
