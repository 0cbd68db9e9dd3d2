/**
 * The flags the tool passes against what the REAL nginx-meshctl binaries accept: their `--help`
 * output, captured by test/fixtures/meshctl-help/capture.sh from binaries built from the vendor
 * source, plus the hidden flags listed (with their source lines) in meshctl-flags.ts. A flag the
 * table invents (the old --pull-policy) or a flag the binary has and the table lacks fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployFlagsFromValues, deploySettings } from '../../src/controlplane/deploy-flags.ts';
import { acceptedFlags, hiddenFlags, parseHelpFlags, unknownFlags } from '../../src/controlplane/meshctl-flags.ts';
import {
  meshctlDeploy,
  meshctlFlagSupport,
  meshctlRemove,
  meshctlUpgrade,
  parseMeshctlVersion,
} from '../../src/controlplane/meshctl.ts';

const dir = path.join(import.meta.dirname, '../fixtures/meshctl-help');
const versions = readdirSync(dir)
  .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
  .sort();
const atLeast = (v: string, b: string) => v.localeCompare(b, undefined, { numeric: true }) >= 0;

/** Flags of `deploy` that are not install settings: cobra's help, the globals, dev-only switches. */
const notSettings = (f: string) =>
  ['help', 'kubeconfig', 'namespace', 'timeout', 'debug', 'dry-run', 'cleanup-on-error'].includes(f) ||
  /-image$/.test(f);

/** An install that differs from the defaults in every setting (conflicts do not matter: only flag names are checked). */
const everything = {
  environment: 'openshift',
  enableUDP: true,
  accessControlMode: 'deny',
  nginxErrorLogLevel: 'debug',
  nginxLogFormat: 'json',
  nginxLBMethod: 'random',
  clientMaxBodySize: '8m',
  prometheusAddress: 'prom.obs:9090',
  disableAutoInjection: true,
  enabledNamespaces: ['a'],
  autoInjection: { disabledNamespaces: ['b'] },
  registry: { server: 'mirror.local/nsm', disablePublicImages: true, imagePullPolicy: 'Always' },
  telemetry: { samplerRatio: 0.5, exporters: { otlp: { host: 'otel', port: 4317 } } },
  tracing: { address: 'zipkin.obs:9411', backend: 'zipkin', sampleRate: 0.2 },
  mtls: {
    mode: 'strict',
    caTTL: '800h',
    svidTTL: '2h',
    trustDomain: 'corp',
    persistentStorage: 'off',
    spireServerKeyManager: 'memory',
    caKeyType: 'rsa-2048',
  },
};

it('has the --help of both real binaries (run test/fixtures/meshctl-help/capture.sh)', () => {
  expect(versions).toEqual(expect.arrayContaining(['1.7.0', '2.0.0']));
});

describe.each(versions)('real nginx-meshctl %s', (v) => {
  const help = (c: string) => readFileSync(path.join(dir, v, `${c}.txt`), 'utf8');
  const deploy = acceptedFlags(help('deploy'), v, 'deploy');
  const visible = parseHelpFlags(help('deploy'));

  it('accepts every deploy flag the table passes to it, and none the table says it removed', () => {
    for (const s of deploySettings) {
      if (!s.flag) continue;
      const removed = s.removedIn !== undefined && atLeast(v, s.removedIn);
      expect({ flag: s.flag, accepted: deploy.long.has(s.flag) }).toEqual({ flag: s.flag, accepted: !removed });
      if (!removed)
        expect({ flag: s.flag, bool: deploy.bool.has(s.flag) }).toEqual({
          flag: s.flag,
          bool: s.type === 'bool' || s.type === 'pull-always',
        });
    }
  });

  it('has a table row for every deploy flag it accepts (visible or hidden)', () => {
    const rows = new Set(deploySettings.map((s) => s.flag));
    const missing = [...deploy.long].filter((f) => !notSettings(f) && !rows.has(f));
    expect(missing).toEqual([]);
  });

  it('hides the flags listed as hidden (else the list is stale)', () => {
    for (const h of hiddenFlags(v, 'deploy'))
      expect({ flag: h.flag, inHelp: visible.long.has(h.flag) }).toEqual({ flag: h.flag, inHelp: false });
    expect(visible.long.has('pull-policy') || deploy.long.has('pull-policy')).toBe(false);
    expect(help('deploy')).toMatch(/--persistent-storage string[\s\S]*?\(default "auto"\)/);
  });

  it('accepts the deploy, upgrade and remove commands the tool builds for an install with every setting', () => {
    const t = { bin: 'nginx-meshctl', namespace: 'nginx-mesh', timeout: '5m', kubeconfig: '/k' };
    const flags = deployFlagsFromValues(everything, v).result;
    expect(flags).toContain('--pull-always');
    expect(unknownFlags(meshctlDeploy(t, flags).args, deploy)).toEqual([]);
    const up = meshctlUpgrade(t, { version: v, registryServer: 'mirror', imageTag: v });
    expect(unknownFlags(up.args, acceptedFlags(help('upgrade'), v, 'upgrade'))).toEqual([]);
    expect(unknownFlags(meshctlRemove(t).args, acceptedFlags(help('remove'), v, 'remove'))).toEqual([]);
  });

  it('has upgrade flags exactly where meshctlFlagSupport says', () => {
    const upgrade = parseHelpFlags(help('upgrade'));
    for (const r of meshctlFlagSupport.filter((x) => x.command === 'upgrade')) {
      expect({ flag: r.flag, has: upgrade.long.has(r.flag.slice(2)) }).toEqual({
        flag: r.flag,
        has: atLeast(v, r.since),
      });
    }
  });

  it('names its own version on the first line of `version`', () => {
    expect(parseMeshctlVersion(help('version'))).toBe(v);
  });
});

describe('flag checks', () => {
  const spec = acceptedFlags(
    [
      'Flags:',
      '  -y, --yes    answer yes',
      '      --mtls-mode string   mode',
      '      --enable-udp   udp',
      'Global Flags:',
      '  -n, --namespace string   ns',
      '  -t, --timeout duration   t',
    ].join('\n'),
    '1.7.0',
    'deploy',
  );
  it('finds the flags a binary lacks, skipping values (also values that look like flags)', () => {
    expect(
      unknownFlags(
        [
          '-n',
          'nginx-mesh',
          '-t',
          '5m',
          'deploy',
          '--mtls-mode',
          'strict',
          '--enable-udp',
          '--pull-policy',
          'Always',
          '-p',
          '--sample-rate=0.1',
        ],
        spec,
      ),
    ).toEqual(['--pull-policy']);
    expect(unknownFlags(['deploy', '-x', '--enable-udp=false'], spec)).toEqual(['-x']);
  });
  it('1.x hides pull-always and the deprecated tracing flags; 2.x accepts no tracing flag', () => {
    expect(hiddenFlags('1.6.0', 'deploy').map((h) => h.flag)).toEqual(
      expect.arrayContaining([
        'pull-always',
        'disabled-namespaces',
        'sample-rate',
        'tracing-backend',
        'tracing-address',
      ]),
    );
    expect(hiddenFlags('2.0.0', 'deploy').map((h) => h.flag)).not.toContain('tracing-backend');
    expect(hiddenFlags('2.0.0', 'deploy').map((h) => h.flag)).toContain('pull-always');
  });
});
