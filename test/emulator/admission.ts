import type { ControlPlane } from './control-plane.ts';
import { buildInjectionPatch, decideInjection, type InjectionConfig, type PodLike } from './inject.ts';
import { meshJobNames } from './hook-scripts.ts';
import { validatePolicy } from './validate.ts';

/**
 * AdmissionReview in, AdmissionReview out: routes a webhook call by its chart path to the
 * injector, the policy validator or the SPIFFE registrar. Pure apart from the log callback;
 * the cluster state it needs comes in through MeshView.
 */
export interface MeshView {
  /** The mesh whose webhook was called (by namespace), or the only/first known one. */
  controlPlane(meshNamespace?: string): ControlPlane | undefined;
  namespaceLabels(namespace: string): Record<string, string>;
  injectionConfig(meshNamespace: string): InjectionConfig;
}

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  namespace?: string;
  name?: string;
  operation?: string;
  object?: unknown;
}

export interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: AdmissionRequest;
  response?: Record<string, unknown>;
}

export interface Answer {
  allowed: boolean;
  message?: string;
  code?: number;
  patch?: unknown[];
}

export function reviewResponse(review: AdmissionReview, a: Answer): AdmissionReview {
  const response: Record<string, unknown> = { uid: review.request?.uid ?? '', allowed: a.allowed };
  if (!a.allowed || a.message) response.status = { code: a.code ?? (a.allowed ? 200 : 400), message: a.message ?? '' };
  if (a.patch && a.patch.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(a.patch)).toString('base64');
  }
  return { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

function podName(pod: PodLike, req: AdmissionRequest): string {
  return pod.metadata?.name || req.name || `${pod.metadata?.generateName ?? 'pod-'}*`;
}

/**
 * The refusal a webhook call gets while the mesh's control plane is gone or has no ready pod:
 * in a real cluster the API server cannot reach the Service then, and failurePolicy Fail refuses.
 */
function meshDown(view: MeshView, meshNs: string | undefined): Answer | undefined {
  const mesh = view.controlPlane(meshNs);
  const where = meshNs ? ` in namespace ${meshNs}` : '';
  if (!mesh)
    return {
      allowed: false,
      code: 503,
      message: `NGINX Service Mesh is not running: no nginx-mesh-api or nginx-mesh-controller Deployment${where}`,
    };
  if (!mesh.ready)
    return {
      allowed: false,
      code: 503,
      message: `NGINX Service Mesh is not ready: ${mesh.deployment}${where} has no ready pod`,
    };
  return undefined;
}

function inject(req: AdmissionRequest, meshNs: string | undefined, view: MeshView, log: (l: string) => void): Answer {
  if (req.operation !== 'CREATE' || req.kind?.kind !== 'Pod') return { allowed: true };
  const down = meshDown(view, meshNs);
  if (down) return down;
  const mesh = view.controlPlane(meshNs)!;
  const pod = (req.object ?? {}) as PodLike;
  const namespace = req.namespace ?? pod.metadata?.namespace ?? 'default';
  const decision = decideInjection({
    pod,
    namespace,
    namespaceLabels: view.namespaceLabels(namespace),
    mesh,
    config: view.injectionConfig(mesh.namespace),
    meshJobNames,
  });
  const name = `${namespace}/${podName(pod, req)}`;
  // Decisions not to inject are not logged: a busy cluster creates many pods that opt out.
  if (!decision.inject) return { allowed: true };
  log(`injected pod ${name} with version ${mesh.version} (mesh ${mesh.namespace}; ${decision.reason})`);
  return { allowed: true, patch: buildInjectionPatch(pod, mesh) };
}

/** Answers one AdmissionReview for the chart's webhook path, for the mesh in meshNamespace. Never throws. */
export function answerReview(
  path: string,
  review: AdmissionReview,
  view: MeshView,
  log: (l: string) => void,
  meshNamespace?: string,
): AdmissionReview {
  const req = review.request;
  if (!req?.uid)
    return reviewResponse(review, {
      allowed: false,
      code: 400,
      message: 'not an AdmissionReview: request.uid is missing',
    });
  try {
    if (path === '/inject' || path.startsWith('/inject/') || path === '/mutate')
      return reviewResponse(review, inject(req, meshNamespace, view, log));
    if (path === '/validate' || path.startsWith('/validate/')) {
      const down = meshDown(view, meshNamespace);
      if (down) return reviewResponse(review, down);
      const v = validatePolicy(req.operation ?? '', req.object);
      const what = `${req.kind?.kind ?? '?'} ${req.namespace ?? ''}/${req.name ?? ''}`;
      if (!v.allowed) log(`rejected ${req.operation} ${what}: ${v.message}`);
      return reviewResponse(review, { allowed: v.allowed, message: v.message, code: v.allowed ? 200 : 422 });
    }
    // The SPIRE workload registrar (validate-spiffeid-...) and anything else the charts add: allow.
    return reviewResponse(review, { allowed: true });
  } catch (err) {
    log(`error: admission ${path} uid ${req.uid} failed: ${(err as Error).stack ?? String(err)}`);
    return reviewResponse(review, {
      allowed: false,
      code: 500,
      message: `mesh emulator error: ${(err as Error).message}`,
    });
  }
}
