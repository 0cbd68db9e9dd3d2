/**
 * Preflight, the images: every image every hop's target runs (src/images/hop-images.ts, plus what the
 * binaries' own dry runs print) is asked for in its registry from this machine, with the credentials
 * the install uses (src/images/credentials.ts), one manifest request each (src/images/registry-client.ts),
 * and its platforms are held against the nodes' (Node status.nodeInfo: linux nodes only, the mesh
 * runs on no other).
 * - a missing image, a refused credential, an image without a node's platform: refusal (exit 3), each
 *   named with what to do (src/images/image-fixes.ts);
 * - a registry this machine cannot reach: a warning that the check did not happen for its images
 *   (the nodes may reach what this machine cannot), a refusal with --require-images.
 */
import type { Deps } from '../deps.ts';
import { mapLimit } from '../concurrency.ts';
import { planImages, type HopImages } from '../images/hop-images.ts';
import { mergeImages, type ImageUse } from '../images/manifest-images.ts';
import { parseImageRef } from '../images/reference.ts';
import {
  credentialFor,
  hopCredential,
  meshRegistryKey,
  operatorDockerConfig,
  type CredentialEntry,
} from '../images/credentials.ts';
import type { ManifestVerdict, RegistryClient } from '../images/registry-client.ts';
import { deniedFix, missingFix, platformFix } from '../images/image-fixes.ts';
import type { Install, Plan } from '../engine/types.ts';

export interface ImageCheckOptions {
  client: RegistryClient;
  /** --require-images: a registry this machine cannot reach refuses the run. */
  require: boolean;
  /** The operator's docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json). */
  dockerConfig?: string | undefined;
}

export interface ImageFailure {
  check: 'images';
  message: string;
  fix: string;
}

export interface ImageCheckResult {
  failures: ImageFailure[];
  /** Registries not reached: the check did not happen for their images. */
  warnings: string[];
  /** Images, requests, seconds. */
  summary: string;
}

/** The nodes' platforms ("linux/amd64" -> node names); undefined when the nodes cannot be listed. */
export async function nodePlatforms(deps: Pick<Deps, 'kube'>): Promise<Map<string, string[]> | undefined> {
  try {
    const nodes = await deps.kube.request<{
      items: {
        metadata?: { name?: string; labels?: Record<string, string> };
        status?: { nodeInfo?: { operatingSystem?: string; architecture?: string } };
      }[];
    }>({ path: '/api/v1/nodes' });
    const out = new Map<string, string[]>();
    for (const n of nodes.items) {
      const os = n.status?.nodeInfo?.operatingSystem || n.metadata?.labels?.['kubernetes.io/os'];
      const arch = n.status?.nodeInfo?.architecture || n.metadata?.labels?.['kubernetes.io/arch'];
      if (os !== 'linux' || !arch) continue;
      out.set(`${os}/${arch}`, [...(out.get(`${os}/${arch}`) ?? []), n.metadata?.name ?? '?']);
    }
    return out;
  } catch {
    return undefined;
  }
}

interface Wanted {
  image: string;
  uses: string[];
  hops: number[];
  version: string;
  tag: string;
  cred: CredentialEntry[];
}

/** Pure: the images to check, once each, with the hops (and credentials) that need them. */
export function imagesToCheck(
  plan: Plan,
  lists: readonly (HopImages | undefined)[],
  extra: ReadonlyMap<number, readonly ImageUse[]>,
  creds: readonly (CredentialEntry | undefined)[],
): Wanted[] {
  const out = new Map<string, Wanted>();
  plan.hops.forEach((hop, i) => {
    for (const u of mergeImages(lists[i]?.images ?? [], extra.get(hop.index) ?? [])) {
      const w = out.get(u.image) ?? { image: u.image, uses: [], hops: [], version: hop.to, tag: hop.to, cred: [] };
      w.uses = [...new Set([...w.uses, ...u.uses])].sort();
      w.hops.push(hop.index);
      if (creds[i]) w.cred.push(creds[i]);
      out.set(u.image, w);
    }
  });
  return [...out.values()];
}

/** Runs the check; `extra` holds the images the binaries' own dry runs printed, by hop. */
export async function checkImages(
  deps: Pick<Deps, 'kube' | 'exec' | 'fs' | 'clock'>,
  input: { plan: Plan; install: Install },
  opts: ImageCheckOptions,
  extra: ReadonlyMap<number, readonly ImageUse[]> = new Map(),
): Promise<ImageCheckResult> {
  const t0 = deps.clock.now();
  const { plan, install } = input;
  const lists = plan.hops.every((h) => h.images)
    ? plan.hops.map((h) => h.images)
    : await planImages(deps, plan, install);
  const failures: ImageFailure[] = [];
  lists.forEach((l, i) => {
    if (l?.problem)
      failures.push({
        check: 'images',
        message: `the images of hop ${i + 1} cannot be listed: ${l.problem}`,
        fix: 'fix what is named (the chart must render: helm template), or check the images by hand',
      });
  });
  const creds = plan.hops.map((h) => hopCredential(h, install));
  const secretEntries = await meshRegistryKey(deps, plan.namespace);
  const wanted = imagesToCheck(plan, lists, extra, creds);
  const hosts = [...new Set(wanted.map((w) => parseImageRef(w.image)?.host).filter((h): h is string => Boolean(h)))];
  const docker = await operatorDockerConfig(deps, opts.dockerConfig, hosts);
  const platforms = await nodePlatforms(deps);
  const before = opts.client.requests;
  const unreachable = new Map<string, { images: string[]; detail: string }>();
  const verdicts = await mapLimit(wanted, 8, async (w) => {
    const ref = parseImageRef(w.image);
    if (!ref)
      return { w, v: { status: 'missing', detail: 'not a valid image reference' } as ManifestVerdict, cred: undefined };
    // The install's own credentials for its registry, else its Secret's, else this machine's docker config.
    const cred = credentialFor(w.cred, ref) ?? credentialFor(secretEntries, ref) ?? credentialFor(docker, ref);
    return { w, v: await opts.client.manifest(ref, cred), cred };
  });
  for (const { w, v, cred } of verdicts) {
    const where = `${w.image} (hop ${w.hops.join(', ')}: ${w.uses.join(', ')})`;
    if (v.status === 'missing')
      failures.push({
        check: 'images',
        message: `${where} is not in its registry: ${v.detail}`,
        fix: missingFix(w.image, w.version, w.tag),
      });
    else if (v.status === 'denied')
      failures.push({
        check: 'images',
        message: `${where} cannot be read: ${v.detail}`,
        fix: deniedFix(w.image, cred),
      });
    else if (v.status === 'unreachable') {
      const host = parseImageRef(w.image)?.host ?? w.image;
      const u = unreachable.get(host) ?? { images: [], detail: v.detail };
      u.images.push(w.image);
      unreachable.set(host, u);
    } else if (platforms && v.platforms) {
      const lacking = [...platforms.keys()].filter((p) => !v.platforms!.includes(p));
      if (lacking.length) {
        const nodes = lacking.flatMap((p) => platforms.get(p)!.map((n) => `${n} (${p})`));
        failures.push({
          check: 'images',
          message: `${where} has no manifest for ${lacking.join(', ')}, the platform of node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}; it has ${v.platforms.join(', ') || 'none'}`,
          fix: platformFix(w.image, w.version, w.tag, lacking),
        });
      }
    }
  }
  const warnings: string[] = [];
  for (const [host, u] of unreachable) {
    const message = `the image check did not happen for ${u.images.length} image(s) of ${host}: this machine cannot reach it (${u.detail}); the nodes may still reach it: ${u.images.join(', ')}`;
    if (opts.require)
      failures.push({
        check: 'images',
        message,
        fix: `make ${host} reachable from this machine (a CA it does not trust: --registry-ca FILE), or leave out --require-images to go on without this check`,
      });
    else warnings.push(message);
  }
  if (!platforms) warnings.push("the nodes could not be listed: the images' platforms were not checked");
  const seconds = ((deps.clock.now() - t0) / 1000).toFixed(2);
  const summary = `image check: ${wanted.length} image(s) of ${plan.hops.length} hop(s) in ${hosts.length} registr${hosts.length === 1 ? 'y' : 'ies'}, ${opts.client.requests - before} request(s), ${seconds}s`;
  return { failures, warnings, summary };
}
