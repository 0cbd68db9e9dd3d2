import { isSecret } from '../../src/secret.ts';
import { formatCommand } from '../../src/exec/runner.ts';
import { describe, expect, it } from 'vitest';
import {
  deployFlagsFromValues,
  deploySettings,
  findDeploySetting,
  removedDeployFlags,
  unknownDeployFlags,
  valuesForTarget,
} from '../../src/controlplane/deploy-flags.ts';

const defaults16 = {
  registry: {
    server: 'docker-registry.nginx.com/nsm',
    imageTag: '1.6.0',
    key: '',
    username: '',
    password: '',
    disablePublicImages: false,
    imagePullPolicy: 'IfNotPresent',
  },
  accessControlMode: 'allow',
  environment: 'kubernetes',
  enableUDP: false,
  nginxErrorLogLevel: 'warn',
  nginxLogFormat: 'default',
  nginxLBMethod: 'least_time',
  clientMaxBodySize: '1m',
  disableAutoInjection: false,
  enabledNamespaces: [],
  prometheusAddress: '',
  autoInjection: { disable: false, disabledNamespaces: [], enabledNamespaces: [] },
  telemetry: {},
  tracing: {},
  mtls: {
    mode: 'permissive',
    caTTL: '720h',
    svidTTL: '1h',
    trustDomain: 'example.org',
    persistentStorage: 'on',
    spireServerKeyManager: 'disk',
    caKeyType: 'ec-p256',
    upstreamAuthority: {},
  },
};

describe('deploy settings table', () => {
  it('has a reason per row and unique flags and paths', () => {
    const flags = deploySettings.map((s) => s.flag).filter(Boolean);
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(deploySettings.map((s) => s.path)).size).toBe(deploySettings.length);
    for (const s of deploySettings) expect(s.reason.length).toBeGreaterThan(5);
  });
  it('finds flags with or without dashes; lists unknown and removed ones', () => {
    expect(findDeploySetting('--mtls-mode')?.path).toBe('mtls.mode');
    expect(unknownDeployFlags({ 'mtls-mode': 'strict', 'no-such-flag': 'x' })).toEqual(['no-such-flag']);
    expect(removedDeployFlags({ 'enabled-namespaces': 'a', 'mtls-mode': 'strict' }, '2.0.0')).toEqual([
      'enabled-namespaces',
    ]);
    expect(removedDeployFlags({ 'enabled-namespaces': 'a' }, '1.7.0')).toEqual([]);
  });
});

describe('deployFlagsFromValues (meshctl manual path)', () => {
  it('passes only --persistent-storage for an install on chart defaults (the flag defaults to auto, not on; the image tag is never carried)', () => {
    expect(deployFlagsFromValues(defaults16, '1.7.0')).toEqual({
      result: ['--persistent-storage', 'on'],
      warnings: [],
      files: [],
    });
  });
  it('maps a pull policy of Always to the hidden --pull-always; other policies have no flag and are dropped with a warning', () => {
    const always = deployFlagsFromValues({ registry: { imagePullPolicy: 'Always' } }, '2.0.0');
    expect(always).toEqual({ result: ['--pull-always'], warnings: [], files: [] });
    const never = deployFlagsFromValues({ registry: { imagePullPolicy: 'Never' } }, '1.7.0');
    expect(never.result).toEqual([]);
    expect(never.warnings).toEqual([
      expect.stringMatching(/registry\.imagePullPolicy="Never" is dropped: nginx-meshctl deploy has no flag for it/),
    ]);
    expect(deployFlagsFromValues({}, '1.7.0', { 'pull-always': 'true' }).result).toEqual(['--pull-always']);
    expect(JSON.stringify(deployFlagsFromValues({ registry: { imagePullPolicy: 'Always' } }, '1.7.0'))).not.toContain(
      'pull-policy',
    );
  });
  it('carries 1.x disabled namespaces as the deprecated --disabled-namespaces, dropped at 2.0', () => {
    const values = { autoInjection: { disable: false, disabledNamespaces: ['x', 'y'], enabledNamespaces: [] } };
    expect(deployFlagsFromValues(values, '1.7.0').result).toEqual(['--disabled-namespaces', 'x,y']);
    expect(deployFlagsFromValues(values, '2.0.0').warnings.join('\n')).toMatch(
      /autoInjection\.disabledNamespaces=\["x","y"\] \(--disabled-namespaces\) is dropped: 2\.0\.0 removed it/,
    );
  });
  it('carries every non-default setting as its flag', () => {
    const values = {
      ...defaults16,
      environment: 'openshift',
      enableUDP: true,
      registry: { ...defaults16.registry, server: 'mirror.local/nsm', disablePublicImages: true },
      mtls: { ...defaults16.mtls, mode: 'strict', trustDomain: 'corp.example' },
      enabledNamespaces: ['a', 'b'],
      telemetry: { samplerRatio: 0.5, exporters: { otlp: { host: 'otel.obs', port: 4317 } } },
    };
    expect(deployFlagsFromValues(values, '1.7.0').result).toEqual([
      '--environment',
      'openshift',
      '--registry-server',
      'mirror.local/nsm',
      '--disable-public-images',
      '--enable-udp',
      '--enabled-namespaces',
      'a,b',
      '--telemetry-sampler-ratio',
      '0.5',
      '--telemetry-exporters',
      'type=otlp,host=otel.obs,port=4317',
      '--mtls-mode',
      'strict',
      '--mtls-trust-domain',
      'corp.example',
      '--persistent-storage',
      'on',
    ]);
  });
  it('drops settings the target removed, one warning each', () => {
    const values = {
      ...defaults16,
      disableAutoInjection: true,
      enabledNamespaces: ['a'],
      tracing: { backend: 'zipkin', address: 'zipkin.obs:9411', sampleRate: 0.1 },
    };
    // 1.7 still accepts the OpenTracing flags (deprecated, hidden; the flag for the rate is --sample-rate).
    const to17 = deployFlagsFromValues(values, '1.7.0');
    expect(to17.result).toEqual([
      '--disable-auto-inject',
      '--enabled-namespaces',
      'a',
      '--tracing-address',
      'zipkin.obs:9411',
      '--tracing-backend',
      'zipkin',
      '--sample-rate',
      '0.1',
      '--persistent-storage',
      'on',
    ]);
    expect(to17.warnings).toEqual([]);
    const to20 = deployFlagsFromValues(values, '2.0.0');
    expect(to20.result).toEqual(['--persistent-storage', 'on']);
    expect(to20.warnings.map((w) => w.split(' ')[0])).toEqual([
      'disableAutoInjection=true',
      'enabledNamespaces=["a"]',
      'tracing.address="zipkin.obs:9411"',
      'tracing.backend="zipkin"',
      'tracing.sampleRate=0.1',
    ]);
  });
  it('keeps tracing flags for a 1.5 -> 1.6 hop', () => {
    expect(deployFlagsFromValues({ tracing: { backend: 'jaeger' } }, '1.6.0').result).toEqual([
      '--tracing-backend',
      'jaeger',
    ]);
  });
  it('carries the registry credentials as Secrets: the password shows as <redacted>, the key goes to a file', () => {
    const r = deployFlagsFromValues({ registry: { username: 'me', password: 's3cret' } }, '1.7.0', {}, '/b/hop1');
    expect(r.result.slice(0, 3)).toEqual(['--registry-username', 'me', '--registry-password']);
    const password = r.result[3];
    expect(isSecret(password) && password.reveal()).toBe('s3cret');
    expect(formatCommand({ bin: 'nginx-meshctl', args: r.result })).toBe(
      'nginx-meshctl --registry-username me --registry-password <redacted>',
    );
    expect(JSON.stringify(r)).not.toContain('s3cret');
    const key = deployFlagsFromValues({ registry: { key: '{"private_key":"k3y-text"}' } }, '1.7.0', {}, '/b/hop1');
    expect(key.result).toEqual(['--registry-key', '/b/hop1/registry-key.json']);
    expect(key.files.map((f) => [f.path, f.content.reveal()])).toEqual([
      ['/b/hop1/registry-key.json', '{"private_key":"k3y-text"}'],
    ]);
    expect(JSON.stringify(key)).not.toContain('k3y-text');
    // Without a directory for the file, the key is not carried (and says so).
    expect(deployFlagsFromValues({ registry: { key: 'k' } }, '1.7.0').warnings).toEqual([
      expect.stringMatching(/registry\.key is not carried over/),
    ]);
  });
  it('user changes override the install and are refused when removed', () => {
    const r = deployFlagsFromValues({ mtls: { mode: 'permissive' } }, '2.0.0', {
      'mtls-mode': 'strict',
      'enable-udp': 'true',
      'disable-auto-inject': 'true',
    });
    expect(r.result).toEqual(['--enable-udp=true', '--mtls-mode', 'strict']);
    expect(r.warnings).toEqual([
      expect.stringMatching(/--deploy-flag disable-auto-inject is ignored: 2\.0\.0 removed it/),
    ]);
  });
});

describe('valuesForTarget (helm manual path)', () => {
  it('drops removed values, sets the image tag, applies changes, leaves the input alone', () => {
    const values = structuredClone({ ...defaults16, disableAutoInjection: true, tracing: { backend: 'zipkin' } });
    const r = valuesForTarget(values, '2.0.0', {
      'mtls-mode': 'strict',
      'enable-udp': 'true',
      'telemetry-exporters': 'type=otlp,host=otel,port=4318',
    });
    expect(r.result).not.toHaveProperty('disableAutoInjection');
    expect(r.result).not.toHaveProperty('enabledNamespaces');
    expect(r.result).not.toHaveProperty('autoInjection');
    expect(r.result).not.toHaveProperty('tracing');
    expect(r.result).toMatchObject({
      registry: { imageTag: '2.0.0' },
      mtls: { mode: 'strict' },
      enableUDP: true,
      telemetry: { exporters: { otlp: { host: 'otel', port: 4318 } } },
    });
    expect(r.warnings.map((w) => w.split(' ')[0])).toEqual(['disableAutoInjection=true', 'tracing.backend="zipkin"']);
    expect(values.disableAutoInjection).toBe(true);
  });
  it('1.7 keeps the 1.x injection values and the deprecated tracing', () => {
    const r = valuesForTarget({ enabledNamespaces: ['a'], tracing: { backend: 'zipkin' } }, '1.7.0');
    expect(r.result).toEqual({ enabledNamespaces: ['a'], tracing: { backend: 'zipkin' } });
    expect(r.warnings).toHaveLength(0);
  });
  it('does not add an image tag the install did not pin', () => {
    expect(valuesForTarget({ mtls: { mode: 'strict' } }, '1.7.0').result).toEqual({ mtls: { mode: 'strict' } });
  });
});
