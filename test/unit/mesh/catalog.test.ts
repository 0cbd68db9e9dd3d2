import { describe, expect, it } from 'vitest';
import {
  catalog,
  kindForApiVersion,
  kindsForRelease,
  notBackedUp,
  pickVersion,
  resourceName,
} from '../../../src/mesh/catalog.ts';

describe('kind catalog', () => {
  it('holds the six SMI/NGINX kinds and MeshConfig, each with its CRD name and a reason', () => {
    expect(catalog.map((k) => resourceName(k))).toEqual([
      'httproutegroups.specs.smi-spec.io',
      'tcproutes.specs.smi-spec.io',
      'traffictargets.access.smi-spec.io',
      'trafficsplits.split.smi-spec.io',
      'ratelimits.specs.smi.nginx.com',
      'circuitbreakers.specs.smi.nginx.com',
      'meshconfigs.nsm.nginx.com',
    ]);
    for (const k of catalog) {
      expect(k.reason.length).toBeGreaterThan(10);
      expect(k.versions).toContain(k.storageVersion);
    }
  });

  it('serves RateLimit as v1alpha1 and v1alpha2 with v1alpha2 stored', () => {
    const rl = catalog.find((k) => k.kind === 'RateLimit')!;
    expect(rl.versions).toEqual(['v1alpha1', 'v1alpha2']);
    expect(pickVersion(rl, ['v1alpha1', 'v1alpha2'])).toBe('v1alpha2');
    expect(pickVersion(rl, ['v1alpha1'])).toBe('v1alpha1');
    expect(pickVersion(rl, ['v1beta1'])).toBeUndefined();
  });

  it('adds MeshConfig only from 2.0', () => {
    expect(kindsForRelease('1.7.0').map((k) => k.kind)).not.toContain('MeshConfig');
    expect(kindsForRelease('2.0.0').map((k) => k.kind)).toContain('MeshConfig');
    expect(kindsForRelease(undefined)).toHaveLength(7);
    expect(kindsForRelease('v2.0')).toEqual(kindsForRelease('2.0.0'));
    expect(kindsForRelease('not-a-version')).toHaveLength(7); // unknown: every kind
  });

  it('recognizes catalog apiVersions and refuses everything else', () => {
    expect(kindForApiVersion('split.smi-spec.io/v1alpha3', 'TrafficSplit')?.plural).toBe('trafficsplits');
    expect(kindForApiVersion('specs.smi.nginx.com/v1alpha1', 'RateLimit')?.kind).toBe('RateLimit');
    expect(kindForApiVersion('split.smi-spec.io/v1alpha1', 'TrafficSplit')).toBeUndefined();
    expect(kindForApiVersion('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')).toBeUndefined();
    expect(kindForApiVersion('v1', 'Secret')).toBeUndefined();
    expect(kindForApiVersion('spiffeid.spiffe.io/v1beta1', 'SpiffeID')).toBeUndefined();
    expect(notBackedUp.map((k) => k.kind)).toEqual(['SpiffeID', 'MeshConfigClass']);
  });
});
