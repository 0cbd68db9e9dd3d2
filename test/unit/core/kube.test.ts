import { describe, expect, it } from 'vitest';
import { backoffMs, buildPath, defaultRetry, isRetryable, KubeApiError } from '../../../src/kube/client.ts';
import { assertSafeName, collectionPath, objectPath, core } from '../../../src/kube/paths.ts';

describe('retry rules', () => {
  it('retries throttling, server errors and dropped connections, nothing else', () => {
    for (const status of [429, 500, 502, 503, 504])
      expect(isRetryable(new KubeApiError(status, 'GET /x', {}))).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 422])
      expect(isRetryable(new KubeApiError(status, 'GET /x', {}))).toBe(false);
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new Error('bad json'))).toBe(false);
  });
  it('backs off exponentially with jitter, capped, and honours Retry-After', () => {
    expect(backoffMs(0, defaultRetry, undefined, () => 0)).toBe(100);
    expect(backoffMs(0, defaultRetry, undefined, () => 1)).toBe(200);
    expect(backoffMs(3, defaultRetry, undefined, () => 1)).toBe(1600);
    expect(backoffMs(20, defaultRetry, undefined, () => 1)).toBe(defaultRetry.maxDelayMs);
    expect(backoffMs(0, defaultRetry, 2)).toBe(2000);
    expect(backoffMs(0, defaultRetry, 3600)).toBe(defaultRetry.maxDelayMs);
  });
  it('carries status and reason from a Status body', () => {
    const e = new KubeApiError(409, 'POST /api/v1/namespaces/a/configmaps', {
      reason: 'AlreadyExists',
      message: 'configmaps "x" already exists',
    });
    expect(e.reason).toBe('AlreadyExists');
    expect(e.message).toContain('already exists');
  });
});

describe('paths', () => {
  it('builds core, grouped, namespaced and cluster paths', () => {
    expect(collectionPath(core.pods, 'shop')).toBe('/api/v1/namespaces/shop/pods');
    expect(collectionPath(core.pods)).toBe('/api/v1/pods');
    expect(objectPath(core.crds, 'trafficsplits.split.smi-spec.io')).toBe(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/trafficsplits.split.smi-spec.io',
    );
    expect(buildPath('/api/v1/pods', { limit: 500, continue: undefined, labelSelector: 'a=b' })).toBe(
      '/api/v1/pods?limit=500&labelSelector=a%3Db',
    );
  });
  it('accepts RBAC names with colons', () => {
    expect(
      objectPath(
        { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
        'system:openshift:scc:x',
      ),
    ).toBe('/apis/rbac.authorization.k8s.io/v1/clusterroles/system:openshift:scc:x');
  });
  it.each(['../etc', 'a/b', '', 'a%2Fb', 'a b', 'x'.repeat(254), '..', 'a..b'])(
    'refuses the unsafe name %j',
    (name) => {
      expect(() => assertSafeName(name, 'name')).toThrow(/invalid name/);
    },
  );
});
