import { describe, expect, it } from 'vitest';
import { extraCluster, mergeKubeconfigs, parseClusterCount } from '../../cluster/more-clusters.ts';

describe('cluster:up --clusters N', () => {
  it('takes 1 to 3 clusters and refuses anything else', () => {
    expect(parseClusterCount(undefined)).toBe(1);
    expect(parseClusterCount('2')).toBe(2);
    for (const bad of ['0', '4', '1.5', 'two', '']) expect(() => parseClusterCount(bad), bad).toThrow(/--clusters/);
  });

  it('puts cluster k in <dir>/cluster-k with context nsm-local-k', () => {
    expect(extraCluster('/tmp/c', 2)).toEqual({
      index: 2,
      dir: '/tmp/c/cluster-2',
      name: 'nsm-local-2',
      kubeconfig: '/tmp/c/cluster-2/kubeconfig',
    });
  });

  it('merges the contexts into the first kubeconfig, keeping its current context and replacing a stale entry of the same name', () => {
    const first = {
      'current-context': 'nsm-local',
      clusters: [
        { name: 'nsm-local', cluster: { server: 'https://127.0.0.1:1' } },
        { name: 'nsm-local-2', cluster: { server: 'https://127.0.0.1:9' } },
      ],
      users: [{ name: 'nsm-local-admin' }],
      contexts: [{ name: 'nsm-local' }],
    };
    const second = {
      'current-context': 'nsm-local-2',
      clusters: [{ name: 'nsm-local-2', cluster: { server: 'https://127.0.0.1:2' } }],
      users: [{ name: 'nsm-local-2-admin' }],
      contexts: [{ name: 'nsm-local-2' }],
    };
    const merged = mergeKubeconfigs(first, [second]);
    expect(merged['current-context']).toBe('nsm-local');
    expect(merged.clusters).toEqual([
      { name: 'nsm-local', cluster: { server: 'https://127.0.0.1:1' } },
      { name: 'nsm-local-2', cluster: { server: 'https://127.0.0.1:2' } },
    ]);
    expect(merged.users!.map((u) => u.name)).toEqual(['nsm-local-admin', 'nsm-local-2-admin']);
    expect(merged.contexts!.map((u) => u.name)).toEqual(['nsm-local', 'nsm-local-2']);
  });
});
