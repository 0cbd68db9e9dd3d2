/**
 * A manual upgrade's deploy records what its flags set, and verify checks the new mesh holds it
 * (release values; on 2.0 also the MeshConfig the chart renders from them).
 */
import { describe, expect, it } from 'vitest';
import { deployFlagsFromValues } from '../../../src/controlplane/deploy-flags.ts';
import { expectedSettings, meshConfigPaths, settingMismatches } from '../../../src/engine/phases/settings-check.ts';

const install = {
  registry: { server: 'mirror.local/nsm', imagePullPolicy: 'Always' },
  accessControlMode: 'deny',
  enableUDP: true,
  clientMaxBodySize: '8m',
  telemetry: { samplerRatio: 0.1, exporters: { otlp: { host: 'otel.obs', port: 4317 } } },
  enabledNamespaces: ['a', 'b'],
  disableAutoInjection: true,
  mtls: { mode: 'strict', persistentStorage: 'off', trustDomain: 'corp' },
};

describe('expectedSettings', () => {
  it('reads back every setting the deploy flags set, as chart values', () => {
    const flags = deployFlagsFromValues(install, '1.7.0').result;
    expect(expectedSettings(flags)).toEqual({
      'registry.server': 'mirror.local/nsm',
      'registry.imagePullPolicy': 'Always',
      accessControlMode: 'deny',
      enableUDP: true,
      clientMaxBodySize: '8m',
      disableAutoInjection: true,
      enabledNamespaces: ['a', 'b'],
      'telemetry.samplerRatio': 0.1,
      'telemetry.exporters.otlp': { host: 'otel.obs', port: 4317 },
      'mtls.mode': 'strict',
      'mtls.trustDomain': 'corp',
      'mtls.persistentStorage': 'off',
    });
    expect(expectedSettings(['--enable-udp=false', '--mtls-mode', 'off'])).toEqual({
      enableUDP: false,
      'mtls.mode': 'off',
    });
  });
});

describe('settingMismatches', () => {
  const expected = expectedSettings(deployFlagsFromValues(install, '2.0.0').result);
  it('passes a release that holds every setting (float32 sampler ratio included)', () => {
    const release = {
      ...install,
      telemetry: { samplerRatio: 0.10000000149011612, exporters: { otlp: { host: 'otel.obs', port: 4317 } } },
      registry: { ...install.registry, imageTag: '2.0.0' },
    };
    expect(settingMismatches(expected, release, 'release nginx-service-mesh')).toEqual([]);
  });
  it('names each setting that did not arrive', () => {
    const release = { ...install, accessControlMode: 'allow', mtls: { mode: 'permissive' } };
    expect(settingMismatches(expected, release, 'release nginx-service-mesh')).toEqual([
      'setting accessControlMode: expected "deny", release nginx-service-mesh has "allow"',
      'setting mtls.mode: expected "strict", release nginx-service-mesh has "permissive"',
      'setting mtls.trustDomain: expected "corp", release nginx-service-mesh has nothing',
      'setting mtls.persistentStorage: expected "off", release nginx-service-mesh has nothing',
    ]);
  });
  it('checks only the MeshConfig fields the 2.0 chart renders', () => {
    const spec = {
      accessControlMode: 'deny',
      clientMaxBodySize: '8m',
      mtls: { mode: 'permissive' },
      telemetry: { samplerRatio: 0.1, exporters: { otlp: { host: 'otel.obs', port: 4317 } } },
    };
    expect(settingMismatches(expected, spec, 'MeshConfig nginx-mesh-config', meshConfigPaths)).toEqual([
      'setting mtls.mode: expected "strict", MeshConfig nginx-mesh-config has "permissive"',
    ]);
  });
});
