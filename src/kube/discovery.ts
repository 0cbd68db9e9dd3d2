import type { Kube } from './client.ts';
import { isRetryable, KubeApiError } from './client.ts';
import { core, objectPath } from './paths.ts';

export interface ServedResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** What the resource supports (list, delete, ...). */
  verbs: string[];
}

export interface Discovery {
  /** Every resource the server served, for the groups it could list. */
  resources: ServedResource[];
  /** Group versions whose discovery failed (e.g. an aggregated API whose pod is down). */
  failed: { groupVersion: string; error: string }[];
  /** Every group name the server listed, whether or not its versions answered. */
  groups: string[];
}

interface ApiGroupList {
  groups: { name: string; versions: { groupVersion: string; version: string }[] }[];
}
export interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

/**
 * One group version's resources. Throttling (429) and dropped connections are retried a few times:
 * a version missing by chance would make a backup pick another version of a kind. A 503 (an
 * aggregated API whose pod is down) or another 5xx is not retried here: resourceListConfirmed asks the
 * APIService first.
 */
const resourceListPath = (groupVersion: string) => (groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`);

export async function getResourceList(kube: Kube, groupVersion: string): Promise<ApiResourceList> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await kube.request<ApiResourceList>({
        path: resourceListPath(groupVersion),
        noRetry: true,
      });
    } catch (err) {
      const transient = err instanceof KubeApiError ? err.status === 429 : isRetryable(err);
      if (!transient || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

interface ApiService {
  spec?: { service?: unknown };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * One group version's resources, where a 5xx is final only when the group version's APIService says
 * so: an aggregated API (one with a service) whose Available condition is False. Otherwise (a local API
 * the server itself serves, or an APIService that says it is available) the error came from something
 * in between (a load balancer, a restarting server) and the discovery is asked again, with the
 * client's own retries. Throws the first error when the API is unavailable indeed.
 */
async function resourceListConfirmed(kube: Kube, groupVersion: string): Promise<ApiResourceList> {
  try {
    return await getResourceList(kube, groupVersion);
  } catch (err) {
    if (!(err instanceof KubeApiError) || err.status < 500) throw err;
    const [group, version] = groupVersion.split('/') as [string, string];
    const api = await kube
      .request<ApiService>({ path: objectPath(core.apiServices, `${version}.${group}`) })
      .catch(() => undefined);
    const unavailable = api?.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'False');
    if (api?.spec?.service && unavailable) throw err;
    return kube.request<ApiResourceList>({ path: resourceListPath(groupVersion) }).catch(() => Promise.reject(err));
  }
}

/**
 * Discovers what the server serves, tolerating a partial result: a group version whose
 * discovery fails (503 from an unavailable APIService) is recorded in `failed`, not thrown.
 * `onlyGroups` limits the per-version requests to the groups the caller cares about.
 */
export async function discover(kube: Kube, onlyGroups?: ReadonlySet<string>): Promise<Discovery> {
  const list = await kube.request<ApiGroupList>({ path: '/apis' });
  const groups = list.groups.map((g) => g.name);
  const wanted = list.groups.filter((g) => !onlyGroups || onlyGroups.has(g.name));
  const resources: ServedResource[] = [];
  const failed: Discovery['failed'] = [];
  await Promise.all(
    wanted.flatMap((g) =>
      g.versions.map(async (v) => {
        try {
          const rl = await resourceListConfirmed(kube, v.groupVersion);
          for (const r of rl.resources) {
            if (r.name.includes('/')) continue; // subresources
            resources.push({
              group: g.name,
              version: v.version,
              plural: r.name,
              kind: r.kind,
              namespaced: r.namespaced,
              verbs: r.verbs ?? [],
            });
          }
        } catch (err) {
          failed.push({ groupVersion: v.groupVersion, error: (err as Error).message });
        }
      }),
    ),
  );
  return { resources, failed, groups };
}
