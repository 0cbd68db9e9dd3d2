import { describe, expect, it } from 'vitest';
import { indexPlatforms, parseChallenge } from '../../../src/images/registry-client.ts';
import { credentialFor, dockerConfigEntries, hopCredential, normalizeKey } from '../../../src/images/credentials.ts';
import { parseImageRef } from '../../../src/images/reference.ts';
import { Secret } from '../../../src/secret.ts';
import { childFailureText } from '../../../src/exec/child-output.ts';
import { missingFix, publicSource } from '../../../src/images/image-fixes.ts';
import type { Hop, Install } from '../../../src/engine/types.ts';

describe('the registry protocol, the pure parts', () => {
  it('reads Basic and Bearer challenges', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nats:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nats:pull',
      },
    });
    expect(parseChallenge('Basic realm="nsm-test-registry"')).toEqual({
      scheme: 'basic',
      params: { realm: 'nsm-test-registry' },
    });
    expect(parseChallenge(undefined)).toBeUndefined();
  });

  it("lists an index's platforms without attestation entries", () => {
    const body = Buffer.from(
      JSON.stringify({
        manifests: [
          { platform: { os: 'linux', architecture: 'amd64' } },
          { platform: { os: 'unknown', architecture: 'unknown' } },
          { platform: { os: 'linux', architecture: 'arm64' } },
        ],
      }),
    );
    expect(indexPlatforms(body)).toEqual(['linux/amd64', 'linux/arm64']);
  });
});

describe('which credentials reach which image', () => {
  const cred = (from: string) => ({ username: 'u', password: new Secret('pw-xyz1', from), from });
  it('matches a docker config key by host and path prefix, the longest first, as the kubelet does', () => {
    const entries = [
      { key: '127.0.0.1:5000', cred: cred('host') },
      { key: 'https://127.0.0.1:5000/nsm', cred: cred('path') },
      { key: 'https://index.docker.io/v1/', cred: cred('hub') },
    ];
    expect(credentialFor(entries, parseImageRef('127.0.0.1:5000/nsm/nginx-mesh-sidecar:2.0.0')!)?.from).toBe('path');
    expect(credentialFor(entries, parseImageRef('127.0.0.1:5000/other/x')!)?.from).toBe('host');
    expect(credentialFor(entries, parseImageRef('127.0.0.1:5000/nsmx/x')!)?.from).toBe('host');
    expect(credentialFor(entries, parseImageRef('nats:2.9-alpine')!)?.from).toBe('hub');
    expect(credentialFor(entries, parseImageRef('gcr.io/spiffe-io/spire-server:1.5.6')!)).toBeUndefined();
    expect(normalizeKey('https://index.docker.io/v1/')).toBe('docker.io');
  });

  it('reads a dockerconfigjson (auth, username/password, identity token) into Secrets', () => {
    const e = dockerConfigEntries(
      {
        auths: {
          a: { auth: Buffer.from('robot:s3cr:et').toString('base64') },
          b: { username: 'x', password: 'y-pass' },
          c: { identitytoken: 'tok-123' },
        },
      },
      'f',
    );
    expect(e.map((x) => [x.key, x.cred.username, x.cred.password.reveal()])).toEqual([
      ['a', 'robot', 's3cr:et'],
      ['b', 'x', 'y-pass'],
      ['c', '<token>', 'tok-123'],
    ]);
    expect(JSON.stringify(e)).not.toMatch(/s3cr|y-pass|tok-123/);
  });

  it("takes the install's credentials from what the hop carries: a deploy's flags, else the release values", () => {
    const install = {
      values: {
        registry: { server: 'r.example/nsm', username: 'old', password: new Secret('old-pass', 'registry.password') },
      },
    } as unknown as Install;
    const inPlace = { method: 'meshctl', steps: [] } as unknown as Hop;
    expect(hopCredential(inPlace, install)).toMatchObject({
      key: 'r.example/nsm',
      cred: { username: 'old', from: 'the release values (registry.*)' },
    });
    const deploy = {
      method: 'meshctl',
      steps: [
        {
          id: 'hop1.deploy',
          kind: 'deploy',
          params: { files: [] },
          commands: [
            {
              bin: 'm',
              args: [
                'deploy',
                '--registry-server',
                'm.example/nsm',
                '--registry-username',
                'new',
                '--registry-password',
                new Secret('new-pass', 'p'),
              ],
            },
          ],
        },
      ],
    } as unknown as Hop;
    const got = hopCredential(deploy, install)!;
    expect([got.key, got.cred.username, got.cred.password.reveal(), got.cred.from]).toEqual([
      'm.example/nsm',
      'new',
      'new-pass',
      'the hop1.deploy command',
    ]);
  });
});

describe('what a refusal says to do', () => {
  it("names where the vendor's chart pulls a mirrored image from, and the copy command", () => {
    expect(publicSource('127.0.0.1:5000/nsm/spire-server:1.5.6', '2.0.0', '2.0.0')).toBe(
      'gcr.io/spiffe-io/spire-server:1.5.6',
    );
    expect(publicSource('127.0.0.1:5000/nsm/kubectl', '2.0.0', '2.0.0')).toBe('bitnami/kubectl');
    expect(publicSource('docker-registry.nginx.com/nsm/nginx-mesh-sidecar:2.0.0', '2.0.0', '2.0.0')).toBeUndefined();
    expect(missingFix('m.example/nsm/nginx-mesh-sidecar:2.0.0', '2.0.0', '2.0.0')).toContain(
      'crane copy docker-registry.nginx.com/nsm/nginx-mesh-sidecar:2.0.0 m.example/nsm/nginx-mesh-sidecar:2.0.0',
    );
  });
});

describe("a failed child's output", () => {
  it('keeps the last lines, and an Error: line above them', () => {
    const out = ['Error: the real cause', ...Array.from({ length: 20 }, (_, i) => `line ${i}`)].join('\n');
    expect(childFailureText(out).split('\n')).toEqual([
      'Error: the real cause',
      '...',
      ...Array.from({ length: 8 }, (_, i) => `line ${i + 12}`),
    ]);
  });
});
