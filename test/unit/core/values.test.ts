import { describe, expect, it } from 'vitest';
import { valueAt } from '../../../src/values.ts';

describe('valueAt (was also a private get in controlplane/deploy-flags.ts)', () => {
  const values = {
    registry: { imageTag: '1.7.0', server: null },
    mtls: { mode: 'strict' },
    enabledNamespaces: ['a', 'b'],
    environment: 'openshift',
  };
  it('reads a dotted path', () => {
    expect(valueAt(values, 'registry.imageTag')).toBe('1.7.0');
    expect(valueAt(values, 'environment')).toBe('openshift');
    expect(valueAt(values, 'mtls')).toEqual({ mode: 'strict' });
  });
  it('is undefined where a step is missing, null, a scalar or an array', () => {
    expect(valueAt(values, 'tracing.backend')).toBeUndefined();
    expect(valueAt(values, 'registry.server.host')).toBeUndefined();
    expect(valueAt(values, 'environment.name')).toBeUndefined();
    expect(valueAt(values, 'enabledNamespaces.0')).toBeUndefined();
    expect(valueAt(values, 'registry.server')).toBeNull();
  });
});
