import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeReleaseSecret,
  encodeReleaseSecret,
  isStuckStatus,
  maxReleaseJsonBytes,
  newestMeshReleases,
  type HelmRelease,
} from '../../src/mesh/release.ts';
import { valueAt } from '../../src/values.ts';

const rel = (over: Partial<HelmRelease> = {}): HelmRelease => ({
  name: 'nsm',
  namespace: 'nginx-mesh',
  revision: 1,
  status: 'deployed',
  chart: { name: 'nginx-service-mesh', version: '0.6.0', appVersion: '1.6.0' },
  config: { environment: 'openshift', mtls: { mode: 'strict' } },
  ...over,
});

/** data.release as Kubernetes stores it: base64 (Secret data) of base64 (Helm) of the payload. */
const secretData = (payload: Buffer) => Buffer.from(payload.toString('base64')).toString('base64');

describe('Helm release Secrets', () => {
  it('round-trips through the Secret encoding Helm uses', () => {
    const secret = encodeReleaseSecret(rel());
    expect(secret.metadata?.name).toBe('sh.helm.release.v1.nsm.v1');
    expect(secret.metadata?.labels).toEqual({ owner: 'helm', name: 'nsm', version: '1', status: 'deployed' });
    expect(decodeReleaseSecret(secret)).toEqual(rel());
  });
  it('decodes the layers by hand: Secret base64 -> Helm base64 -> gzip -> JSON', () => {
    const json = {
      name: 'nginx-service-mesh',
      version: 3,
      info: { status: 'pending-upgrade' },
      chart: { metadata: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' } },
      config: { tracing: { backend: 'zipkin' } },
    };
    const helmText = gzipSync(JSON.stringify(json)).toString('base64');
    const secret = {
      metadata: { name: 'sh.helm.release.v1.nginx-service-mesh.v3', namespace: 'nginx-mesh' },
      data: { release: Buffer.from(helmText).toString('base64') },
    };
    const d = decodeReleaseSecret(secret);
    expect(d).toMatchObject({
      name: 'nginx-service-mesh',
      revision: 3,
      status: 'pending-upgrade',
      namespace: 'nginx-mesh',
      chart: { version: '0.7.0', appVersion: '1.7.0' },
    });
    expect(valueAt(d.config, 'tracing.backend')).toBe('zipkin');
  });
  // These two were backup/install.ts's own decoder's tests (it now uses decodeReleaseSecret).
  it('decodes base64(base64(gzip(JSON)))', () => {
    const json = {
      name: 'nsm',
      version: 3,
      config: { mtls: { mode: 'strict' } },
      chart: { metadata: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' } },
    };
    const secret = {
      metadata: { name: 'sh.helm.release.v1.nsm.v3' },
      data: { release: secretData(gzipSync(Buffer.from(JSON.stringify(json)))) },
    };
    expect(decodeReleaseSecret(secret)).toMatchObject({
      name: 'nsm',
      revision: 3,
      config: { mtls: { mode: 'strict' } },
      chart: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' },
    });
  });
  it('also reads an uncompressed payload', () => {
    expect(
      decodeReleaseSecret({ metadata: { name: 's' }, data: { release: secretData(Buffer.from('{"name":"x"}')) } }).name,
    ).toBe('x');
  });
  it('refuses a payload that inflates beyond maxReleaseJsonBytes (a gzip bomb)', () => {
    const bomb = gzipSync(Buffer.alloc(maxReleaseJsonBytes + 1, 0x20));
    expect(() => decodeReleaseSecret({ metadata: { name: 'bomb' }, data: { release: secretData(bomb) } })).toThrow(
      /cannot decode Helm release Secret bomb/,
    );
  });
  it('treats a null config as no values', () => {
    const json = {
      name: 'x',
      version: 1,
      info: { status: 'deployed' },
      chart: { metadata: { name: 'c', version: '1' } },
      config: null,
    };
    const secret = {
      metadata: { name: 's' },
      data: { release: Buffer.from(gzipSync(JSON.stringify(json)).toString('base64')).toString('base64') },
    };
    expect(decodeReleaseSecret(secret).config).toEqual({});
  });
  it('names the Secret when it cannot decode it', () => {
    expect(() =>
      decodeReleaseSecret({
        metadata: { name: 'broken' },
        data: { release: Buffer.from('!!not base64 gzip').toString('base64') },
      }),
    ).toThrow(/broken/);
    expect(() => decodeReleaseSecret({ metadata: { name: 'empty' } })).toThrow(/empty has no data.release/);
  });
  it('keeps the newest revision of each mesh release and ignores other charts', () => {
    const all = [
      rel({ revision: 1, status: 'superseded' }),
      rel({ revision: 2 }),
      rel({ name: 'other', chart: { name: 'redis', version: '1', appVersion: '1' } }),
      rel({ name: 'nginx-service-mesh', revision: 1 }),
    ];
    expect(newestMeshReleases(all).map((r) => `${r.name}@${r.revision}`)).toEqual(['nginx-service-mesh@1', 'nsm@2']);
  });
  it.each([
    ['pending-upgrade', true],
    ['pending-install', true],
    ['pending-rollback', true],
    ['uninstalling', true],
    ['deployed', false],
    ['failed', false],
  ] as const)('status %s stuck=%s', (s, want) => {
    expect(isStuckStatus(s)).toBe(want);
  });
});
