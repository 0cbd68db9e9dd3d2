import { describe, expect, it } from 'vitest';
import { discover } from '../../../src/kube/discovery.ts';
import { KubeApiError, type Kube, type KubeRequest } from '../../../src/kube/client.ts';

/**
 * A server with two groups: metrics.k8s.io (an aggregated API) and example.com (local). `answers`
 * says, per path, what each successive request gets: a status code (an error) or a body.
 */
function server(answers: Record<string, (number | object)[]>): { kube: Kube; asked: string[] } {
  const asked: string[] = [];
  const request = <T>(r: KubeRequest): Promise<T> => {
    asked.push(r.path);
    if (r.path === '/apis') {
      return Promise.resolve({
        groups: [
          { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }] },
          { name: 'example.com', versions: [{ groupVersion: 'example.com/v1', version: 'v1' }] },
        ],
      } as T);
    }
    const next = answers[r.path]?.shift();
    if (next === undefined) return Promise.reject(new KubeApiError(404, r.path, { message: 'not found' }));
    if (typeof next === 'number') return Promise.reject(new KubeApiError(next, r.path, { message: `status ${next}` }));
    return Promise.resolve(next as T);
  };
  const kube = {
    server: 'https://x',
    context: 'c',
    pinnedKubeconfig: () => '',
    serverNow: () => 0,
    retries: 0,
    request,
    watch: () => Promise.resolve(),
  } as Kube;
  return { kube, asked };
}

const widgets = { resources: [{ name: 'widgets', kind: 'Widget', namespaced: true, verbs: ['list', 'delete'] }] };
const pods = { resources: [{ name: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['list'] }] };
const aggregated = (available: 'True' | 'False') => ({
  spec: { service: { name: 'metrics-server', namespace: 'kube-system' } },
  status: { conditions: [{ type: 'Available', status: available }] },
});
const local = { spec: {}, status: { conditions: [{ type: 'Available', status: 'True' }] } };
const apiService = (name: string) => `/apis/apiregistration.k8s.io/v1/apiservices/${name}`;

describe('discover: a 503 is final only when the APIService says its API is unavailable', () => {
  it('an aggregated API whose APIService is not Available: failed, asked once', async () => {
    const { kube, asked } = server({
      '/apis/metrics.k8s.io/v1beta1': [503],
      [apiService('v1beta1.metrics.k8s.io')]: [aggregated('False')],
      '/apis/example.com/v1': [widgets],
    });
    const d = await discover(kube);
    expect(d.failed.map((f) => f.groupVersion)).toEqual(['metrics.k8s.io/v1beta1']);
    expect(d.resources.map((r) => r.plural)).toEqual(['widgets']);
    expect(asked.filter((p) => p === '/apis/metrics.k8s.io/v1beta1')).toHaveLength(1);
  });

  it('a 503 from a local API (something between answered for the server): asked again, and its resources kept', async () => {
    const { kube } = server({
      '/apis/example.com/v1': [503, widgets],
      [apiService('v1.example.com')]: [local],
      '/apis/metrics.k8s.io/v1beta1': [pods],
    });
    const d = await discover(kube);
    expect(d.failed).toEqual([]);
    expect(d.resources.map((r) => r.plural).sort()).toEqual(['pods', 'widgets']);
  });

  it('a 500 from a local API: asked again too', async () => {
    const { kube } = server({
      '/apis/example.com/v1': [500, widgets],
      [apiService('v1.example.com')]: [local],
      '/apis/metrics.k8s.io/v1beta1': [pods],
    });
    expect((await discover(kube)).failed).toEqual([]);
  });

  it('a 503 from an aggregated API that says it is Available: asked again; still failing, it is failed', async () => {
    const { kube } = server({
      '/apis/metrics.k8s.io/v1beta1': [503, 503],
      [apiService('v1beta1.metrics.k8s.io')]: [aggregated('True')],
      '/apis/example.com/v1': [widgets],
    });
    const d = await discover(kube);
    expect(d.failed.map((f) => f.groupVersion)).toEqual(['metrics.k8s.io/v1beta1']);
  });

  it('another error (403) is failed at once, without asking the APIService', async () => {
    const { kube, asked } = server({ '/apis/metrics.k8s.io/v1beta1': [403], '/apis/example.com/v1': [widgets] });
    const d = await discover(kube);
    expect(d.failed.map((f) => f.groupVersion)).toEqual(['metrics.k8s.io/v1beta1']);
    expect(asked.some((p) => p.includes('apiservices'))).toBe(false);
  });
});
