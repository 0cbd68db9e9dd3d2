/**
 * The images a rendered manifest stream makes a cluster pull (pure): every container's `image` (init
 * containers, Jobs and hook Jobs included), and the sidecar and init images the control plane
 * injects, which the mesh config names: 1.x keeps it as base64 JSON in ConfigMap mesh-config's
 * binaryData (`sidecarImage.image`), 2.0 as JSON in ConfigMap data (`sidecarImage`). Each image
 * comes with where it is used ("Deployment/nginx-mesh-controller", "Job/x (hook post-delete)",
 * "injected sidecar (ConfigMap/mesh-config)"). Secrets are not read: they hold no image, and their
 * data may hold a credential.
 */
import { loadAll } from 'js-yaml';
import type { ImageUse } from '../engine/types.ts';

export type { ImageUse };

/** What an image is for: hook Jobs run only at install/upgrade/removal; the injected ones in every meshed pod. */
export type ImageRole = 'control-plane' | 'injected' | 'hook';

export function imageRole(use: ImageUse): ImageRole {
  if (use.uses.some((u) => u.startsWith('injected '))) return 'injected';
  return use.uses.every((u) => u.includes('(hook')) ? 'hook' : 'control-plane';
}

/**
 * Kubernetes and Helm parse YAML with Go's lenient parser; the charts 1.7.0 and 2.0.0 close a flow
 * sequence at its key's indentation (`args: [` ... `]` in spiffe-csi-driver.yaml), which js-yaml
 * rejects as "deficient indentation". A line holding only a closing bracket gets two more spaces:
 * whitespace only, which no image name depends on.
 */
export function lenientYaml(rendered: string): string {
  return rendered.replace(/^([ \t]*)([\]}],?[ \t]*)$/gm, '$1  $2');
}

/** Code-unit order, as Array.prototype.sort (not the locale's). */
const byImage = (a: ImageUse, b: ImageUse) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0);

interface Doc {
  kind?: string;
  metadata?: { name?: string; annotations?: Record<string, string> };
  data?: unknown;
  binaryData?: unknown;
}

/** Pure: the images of a rendered manifest stream (helm template, a dry run's manifest), sorted. */
export function imagesOfManifests(rendered: string): ImageUse[] {
  const found = new Map<string, Set<string>>();
  const add = (image: string, use: string) => {
    found.set(image, (found.get(image) ?? new Set()).add(use));
  };
  const walk = (node: unknown, use: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, use);
      return;
    }
    if (typeof node === 'string') {
      const text = node.trim();
      if (text.startsWith('{')) {
        try {
          walk(JSON.parse(text), `injected sidecar (${use})`);
        } catch {
          /* not JSON */
        }
      }
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'image' && typeof v === 'string' && v) add(v, use);
      else if (k.endsWith('Image') && typeof v === 'string' && v)
        add(v, use.startsWith('injected') ? use : `injected sidecar (${use})`);
      else walk(v, use);
    }
  };
  for (const doc of loadAll(lenientYaml(rendered)) as (Doc | null)[]) {
    if (!doc || typeof doc !== 'object' || doc.kind === 'Secret') continue;
    const hook = doc.metadata?.annotations?.['helm.sh/hook'];
    const use = `${doc.kind ?? '?'}/${doc.metadata?.name ?? '?'}${hook ? ` (hook ${hook})` : ''}`;
    if (doc.kind === 'ConfigMap') {
      walk(doc.data, use);
      for (const v of Object.values((doc.binaryData ?? {}) as Record<string, unknown>))
        if (typeof v === 'string') walk(Buffer.from(v, 'base64').toString('utf8'), use);
      continue;
    }
    walk(doc, use);
  }
  return [...found.entries()].map(([image, uses]) => ({ image, uses: [...uses].sort() })).sort(byImage);
}

/** Pure: two lists as one (the uses of an image named by both joined). */
export function mergeImages(...lists: readonly (readonly ImageUse[])[]): ImageUse[] {
  const out = new Map<string, Set<string>>();
  for (const l of lists) for (const u of l) out.set(u.image, new Set([...(out.get(u.image) ?? []), ...u.uses]));
  return [...out.entries()].map(([image, uses]) => ({ image, uses: [...uses].sort() })).sort(byImage);
}

/** Pure: the images of a manifest a binary printed after its own lines (nginx-meshctl's dry run), or none when it holds no manifest. */
export function dryRunImages(stdout: string): ImageUse[] {
  const at = stdout.startsWith('---') ? 0 : stdout.indexOf('\n---') + 1;
  if (at <= 0 && !stdout.startsWith('---')) return [];
  try {
    return imagesOfManifests(stdout.slice(at));
  } catch {
    return [];
  }
}
