import { describe, expect, it } from 'vitest';
import { validatePolicy } from '../../emulator/validate.ts';

const obj = (kind: string, spec: unknown) => ({ apiVersion: 'x/v1', kind, metadata: { name: 'n' }, spec });

describe('validatePolicy', () => {
  // [case, operation, object, allowed]
  const table: [string, string, unknown, boolean][] = [
    [
      'valid TrafficSplit',
      'CREATE',
      obj('TrafficSplit', { service: 'web', backends: [{ service: 'web-v1', weight: 100 }] }),
      true,
    ],
    [
      'TrafficSplit without service',
      'CREATE',
      obj('TrafficSplit', { backends: [{ service: 'web-v1', weight: 1 }] }),
      false,
    ],
    ['TrafficSplit without backends', 'UPDATE', obj('TrafficSplit', { service: 'web', backends: [] }), false],
    [
      'TrafficSplit with a negative weight',
      'CREATE',
      obj('TrafficSplit', { service: 'web', backends: [{ service: 'a', weight: -1 }] }),
      false,
    ],
    ['delete is always allowed', 'DELETE', null, true],
    [
      'valid HTTPRouteGroup',
      'CREATE',
      obj('HTTPRouteGroup', { matches: [{ name: 'm', headers: { 'x-a': 'b' } }] }),
      true,
    ],
    [
      'HTTPRouteGroup with pre-1.5 list headers',
      'CREATE',
      obj('HTTPRouteGroup', { matches: [{ name: 'm', headers: [{ 'x-a': 'b' }] }] }),
      false,
    ],
    ['HTTPRouteGroup without matches', 'CREATE', obj('HTTPRouteGroup', {}), false],
    [
      'valid RateLimit',
      'CREATE',
      obj('RateLimit', { destination: { kind: 'Service', name: 'web' }, rate: '10r/s' }),
      true,
    ],
    ['RateLimit with a bad rate', 'CREATE', obj('RateLimit', { destination: { name: 'web' }, rate: 'fast' }), false],
    [
      'valid CircuitBreaker',
      'CREATE',
      obj('CircuitBreaker', { destination: { name: 'web' }, errors: 3, timeoutSeconds: 30 }),
      true,
    ],
    [
      'CircuitBreaker with zero errors',
      'CREATE',
      obj('CircuitBreaker', { destination: { name: 'web' }, errors: 0, timeoutSeconds: 30 }),
      false,
    ],
    ['kinds it does not know pass', 'CREATE', obj('MeshConfig', {}), true],
    ['a known kind without spec', 'CREATE', { kind: 'TrafficSplit', metadata: { name: 'n' } }, false],
  ];
  it.each(table)('%s', (_name, op, o, allowed) => {
    const r = validatePolicy(op, o);
    expect(r.allowed).toBe(allowed);
    if (!allowed) expect(r.message).toMatch(/invalid|spec|object/);
  });

  it('names every problem in the message', () => {
    expect(validatePolicy('CREATE', obj('TrafficSplit', {})).message).toBe(
      'TrafficSplit n is invalid: spec.service is required; spec.backends must list at least one backend',
    );
  });
});
