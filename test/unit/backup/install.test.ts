import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeHelmRelease, newestReleaseSecret } from '../../../src/backup/install.ts';

/** data.release as Kubernetes stores it: base64 (Secret data) of base64 of gzip of JSON. */
function encodeRelease(rel: unknown): string {
  const helm = gzipSync(Buffer.from(JSON.stringify(rel))).toString('base64');
  return Buffer.from(helm).toString('base64');
}

describe('Helm release decoding', () => {
  it('decodes base64(base64(gzip(JSON)))', () => {
    const rel = { name: 'nsm', version: 3, config: { mtls: { mode: 'strict' } }, chart: { metadata: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' } } };
    expect(decodeHelmRelease(encodeRelease(rel))).toEqual(rel);
  });

  it('also reads an uncompressed payload', () => {
    const data = Buffer.from(Buffer.from('{"name":"x"}').toString('base64')).toString('base64');
    expect(decodeHelmRelease(data)).toEqual({ name: 'x' });
  });

  it('picks the highest revision, of the named release when given', () => {
    const s = (name: string) => ({ metadata: { name } });
    const secrets = [s('sh.helm.release.v1.nsm.v2'), s('sh.helm.release.v1.nsm.v10'), s('sh.helm.release.v1.other.v11'), s('unrelated')];
    expect(newestReleaseSecret(secrets, 'nsm')?.metadata?.name).toBe('sh.helm.release.v1.nsm.v10');
    expect(newestReleaseSecret(secrets)?.metadata?.name).toBe('sh.helm.release.v1.other.v11');
    expect(newestReleaseSecret([s('unrelated')])).toBeUndefined();
  });
});
