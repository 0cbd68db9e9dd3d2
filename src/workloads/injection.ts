/**
 * What an injected pod looks like (nsm-reference/FACTS.md, "Sidecar injection"), and how to read
 * the mesh version its sidecar runs. Pure: no I/O.
 */
import { imageTag } from '../mesh/detect.ts';
import { autoInjectLabel } from '../mesh/version-notes.ts';

/** Set by the sidecar injector on every pod it mutated. */
export const injectedAnnotation = 'injector.nsm.nginx.com/status';
export const injectedValue = 'injected';
/** Set by the injector too; it is a label, so the API server can filter on it (one small list). */
export const spiffeLabel = 'spiffe.io/spiffeid';
export const injectedPodSelector = `${spiffeLabel}=true`;
/** The proxy container; its image tag is the mesh version that injected it. */
export const sidecarContainer = 'nginx-mesh-sidecar';
/** What a sidecar's version is when its image has no readable tag (a digest, no tag). */
export const unknownVersion = 'unknown';

export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  spec?: { containers?: { name?: string; image?: string }[] };
  status?: { phase?: string };
}

export function isInjected(pod: PodLike): boolean {
  return pod.metadata?.annotations?.[injectedAnnotation] === injectedValue;
}

/** The mesh version of a pod's sidecar, or `unknown` when the container or its tag is missing. */
export function sidecarVersion(pod: PodLike): string {
  const c = pod.spec?.containers?.find((x) => x.name === sidecarContainer);
  return imageTag(c?.image) ?? unknownVersion;
}

/**
 * Whether a pod counts for the skew: pods being deleted are on their way out and pods that finished
 * (Succeeded/Failed) run no sidecar any more, so neither holds the mesh back.
 */
export function isLive(pod: PodLike): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** Whether the pod itself opted in to injection (2.0 honours the label on the pod as well). */
export function podOptedIn(pod: PodLike): boolean {
  return pod.metadata?.labels?.[autoInjectLabel.key] === autoInjectLabel.enabled;
}
