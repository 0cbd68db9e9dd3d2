/**
 * Is a deploy that a previous run started actually done? The real nginx-meshctl installs the
 * release WITHOUT waiting, then checks the control plane (1.7.0 polls the mesh API for about 5
 * minutes, 2.0.0 waits for nginx-mesh-controller) and exits 1 when it never gets healthy, leaving
 * the release installed. So "the target version's release is there" is not "deployed": on
 * --resume the deploy step judges the release status and the control plane's readiness, and a
 * half-installed release is removed and deployed again.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { core, objectPath } from '../kube/paths.ts';
import { controlPlaneDeployment } from './version-notes.ts';
import { notYet, ready, waitFor, WaitTimeoutError } from '../wait.ts';

export type DeployVerdict =
  { state: 'healthy' } | { state: 'failed'; why: string } | { state: 'starting'; why: string };

type Conditions = { type: string; status: string; reason?: string; message?: string }[];
interface DeploymentStatus {
  status?: { readyReplicas?: number; replicas?: number; conditions?: Conditions };
}
interface ApiServiceStatus {
  status?: { conditions?: Conditions };
}

/** 1.x's mesh API: real nginx-meshctl 1.7.0 judges a deploy healthy only when it answers through this APIService (pkg/health). */
export const meshApiService = 'v1alpha1.nsm.nginx.com';

/**
 * Pure: what the release status, the control-plane Deployment and (1.x, `apiService` given) the mesh
 * API's APIService say.
 */
export function judgeDeployed(
  releaseStatus: string | undefined,
  deploymentName: string,
  deployment: DeploymentStatus | undefined,
  apiService?: ApiServiceStatus | null,
): DeployVerdict {
  if (releaseStatus === 'failed') return { state: 'failed', why: 'its Helm release is failed' };
  if (!deployment) return { state: 'starting', why: `Deployment ${deploymentName} does not exist` };
  if ((deployment.status?.readyReplicas ?? 0) >= 1) {
    if (apiService === undefined) return { state: 'healthy' };
    const available = apiService?.status?.conditions?.find((c) => c.type === 'Available');
    if (available?.status === 'True') return { state: 'healthy' };
    return {
      state: 'starting',
      why: `the mesh API (APIService ${meshApiService}) is not available${available?.message ? `: ${available.message}` : ''}`,
    };
  }
  const stuck = deployment.status?.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False');
  if (stuck)
    return {
      state: 'failed',
      why: `Deployment ${deploymentName} stopped progressing (${stuck.reason ?? ''}: ${stuck.message ?? ''})`,
    };
  return { state: 'starting', why: `Deployment ${deploymentName} has no ready replica` };
}

/**
 * Waits up to `graceMs` for the control plane of `version` to have a ready replica (a run killed
 * right after the install leaves pods still starting). Returns the last verdict: `healthy`, or why
 * the deploy counts as failed.
 */
export async function checkDeployed(
  deps: Pick<Deps, 'kube' | 'clock'>,
  opts: {
    namespace: string;
    version: string;
    releaseStatus: string | undefined;
    graceMs: number;
    progress: (m: string) => void;
    signal?: AbortSignal;
  },
): Promise<DeployVerdict> {
  const name = controlPlaneDeployment(opts.version);
  const seconds = Math.round(opts.graceMs / 1000);
  return waitFor<DeployVerdict>(
    {
      clock: deps.clock,
      timeoutMs: opts.graceMs,
      intervalMs: 2000,
      signal: opts.signal,
      what: `the control plane of NSM ${opts.version} to be ready`,
      progress: (why) =>
        opts.progress(
          `NSM ${opts.version} is installed but not healthy yet (${why}): waiting up to ${seconds}s before deploying it again`,
        ),
    },
    async () => {
      const d = await deps.kube
        .request<DeploymentStatus>({ path: objectPath(core.deployments, name, opts.namespace) })
        .catch((err: unknown) => {
          if (err instanceof KubeApiError && err.status === 404) return undefined;
          throw err;
        });
      // 1.x: the APIService must be Available as well (null: it does not exist yet).
      const api = opts.version.startsWith('1.')
        ? await deps.kube
            .request<ApiServiceStatus>({ path: objectPath(core.apiServices, meshApiService) })
            .catch((err: unknown) => {
              if (err instanceof KubeApiError && err.status === 404) return null;
              throw err;
            })
        : undefined;
      const v = judgeDeployed(opts.releaseStatus, name, d, api);
      return v.state === 'starting' ? notYet(v.why) : ready(v);
    },
  ).catch((err: unknown): DeployVerdict => {
    // The grace period is over: the deploy counts as failed, with why it was not healthy.
    if (!(err instanceof WaitTimeoutError)) throw err;
    return { state: 'failed', why: `${String(err.state)} after ${seconds}s more` };
  });
}
