/**
 * Image references as a container runtime reads them (the distribution/reference rules Docker,
 * containerd and the kubelet share): `[host[:port]/]path[:tag][@digest]`. The first component is a
 * host when it holds a `.` or a `:` or is `localhost`; else the image is on Docker Hub, where a
 * one-component path is under `library/`. No tag and no digest means `latest`. Pure.
 */

export interface ImageRef {
  /** As written in the manifest ("nats:2.9-alpine"). */
  text: string;
  /** The registry host as written, with its port ("docker.io" for Docker Hub). */
  host: string;
  /** The repository path on that host ("library/nats", "nsm/nginx-mesh-sidecar"). */
  repository: string;
  /** The tag or digest a manifest request names ("2.9-alpine", "sha256:..."). */
  reference: string;
  /** Pinned by digest: the content cannot move after the check. */
  digest: boolean;
}

/** Docker Hub's API host (docker.io itself does not serve the registry API). */
export const dockerHubApiHost = 'registry-1.docker.io';

export function parseImageRef(text: string): ImageRef | undefined {
  const t = text.trim();
  if (!t || /\s/.test(t)) return undefined;
  const at = t.indexOf('@');
  const named = at >= 0 ? t.slice(0, at) : t;
  const digest = at >= 0 ? t.slice(at + 1) : undefined;
  if (digest !== undefined && !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) return undefined;
  const slash = named.indexOf('/');
  const first = slash >= 0 ? named.slice(0, slash) : '';
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : 'docker.io';
  let path = hasHost ? named.slice(slash + 1) : named;
  const colon = path.lastIndexOf(':');
  const tag = colon > path.lastIndexOf('/') ? path.slice(colon + 1) : undefined;
  if (tag !== undefined) path = path.slice(0, colon);
  if (!path || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path))
    return undefined;
  if (tag !== undefined && !/^\w[\w.-]{0,127}$/.test(tag)) return undefined;
  const repository = host === 'docker.io' && !path.includes('/') ? `library/${path}` : path;
  return { text: t, host, repository, reference: digest ?? tag ?? 'latest', digest: digest !== undefined };
}

/** The host that serves the registry API for an image's host. */
export function apiHost(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' ? dockerHubApiHost : host;
}

/** The image with its repository under another registry path: where a mirror copy of it goes. */
export function mirrored(ref: ImageRef, mirror: string): string {
  const name = ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
  return `${mirror.replace(/\/+$/, '')}/${name}${ref.digest ? `@${ref.reference}` : `:${ref.reference}`}`;
}
