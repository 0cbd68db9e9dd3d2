import { describe, expect, it } from 'vitest';
import { apiHost, mirrored, parseImageRef } from '../../../src/images/reference.ts';

describe('image references, read as a container runtime reads them', () => {
  it.each([
    ['nats:2.9-alpine', 'docker.io', 'library/nats', '2.9-alpine'],
    ['bitnami/kubectl', 'docker.io', 'bitnami/kubectl', 'latest'],
    ['gcr.io/spiffe-io/spire-server:1.5.6', 'gcr.io', 'spiffe-io/spire-server', '1.5.6'],
    ['127.0.0.1:5000/nsm/nginx-mesh-sidecar:2.0.0', '127.0.0.1:5000', 'nsm/nginx-mesh-sidecar', '2.0.0'],
    ['localhost/x', 'localhost', 'x', 'latest'],
    [
      'docker-registry.nginx.com/nsm/nginx-mesh-api@sha256:' + 'a'.repeat(64),
      'docker-registry.nginx.com',
      'nsm/nginx-mesh-api',
      'sha256:' + 'a'.repeat(64),
    ],
  ])('%s', (text, host, repository, reference) => {
    expect(parseImageRef(text)).toMatchObject({ host, repository, reference });
  });

  it('refuses what is not a reference', () => {
    for (const bad of ['', 'UPPER/case', 'a b', 'x:', 'x@sha256', 'nsm//x'])
      expect(parseImageRef(bad), bad).toBeUndefined();
  });

  it("knows Docker Hub's API host and where a mirror copy goes", () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(mirrored(parseImageRef('gcr.io/spiffe-io/spire-server:1.5.6')!, 'mirror.example/nsm/')).toBe(
      'mirror.example/nsm/spire-server:1.5.6',
    );
  });
});
