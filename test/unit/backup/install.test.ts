import { describe, expect, it } from 'vitest';
import { captureInstall } from '../../../src/backup/install.ts';
import { KubeApiError, type Kube, type KubeObject, type KubeRequest } from '../../../src/kube/client.ts';
import { encodeReleaseSecret, type HelmRelease } from '../../../src/mesh/release.ts';

const rel = (name: string, revision: number, chart = 'nginx-service-mesh'): HelmRelease => ({
  name,
  namespace: 'nginx-mesh',
  revision,
  status: revision === 10 ? 'deployed' : 'superseded',
  chart: { name: chart, version: '0.7.0', appVersion: '1.7.0' },
  config: { revision },
});

/** A kube holding `secrets` in the mesh namespace and no ConfigMap. */
function fakeKube(secrets: KubeObject[]): Kube {
  return {
    request: async (r: KubeRequest) => {
      if (r.path === '/api/v1/namespaces/nginx-mesh/secrets') return { metadata: {}, items: secrets };
      throw new KubeApiError(404, `GET ${r.path}`, { reason: 'NotFound' });
    },
  } as unknown as Kube;
}

describe('captureInstall: the Helm release it records', () => {
  it('picks the highest revision of the mesh chart, of the named release when given', async () => {
    const secrets = [rel('nsm', 2), rel('nsm', 10), rel('other', 11), rel('redis', 12, 'redis')].map(
      encodeReleaseSecret,
    );
    expect((await captureInstall(fakeKube(secrets), 'nginx-mesh', 'nsm')).helmRelease).toMatchObject({
      name: 'nsm',
      revision: 10,
      values: { revision: 10 },
    });
    // Without a name: the newest mesh-chart release; another chart's release is never taken for the mesh's.
    expect((await captureInstall(fakeKube(secrets), 'nginx-mesh')).helmRelease).toMatchObject({
      name: 'other',
      revision: 11,
    });
    const none = await captureInstall(fakeKube([rel('redis', 1, 'redis')].map(encodeReleaseSecret)), 'nginx-mesh');
    expect(none.helmRelease).toBeNull();
    expect(none.warnings).toContain(
      'no Helm release of chart nginx-service-mesh in namespace nginx-mesh: install values not captured',
    );
  });

  it('writes the fields install.yaml always had, null for chart fields the release lacks', async () => {
    const noApp = encodeReleaseSecret({
      ...rel('nsm', 3),
      chart: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: undefined },
    });
    expect((await captureInstall(fakeKube([noApp]), 'nginx-mesh')).helmRelease).toEqual({
      name: 'nsm',
      namespace: 'nginx-mesh',
      revision: 3,
      status: 'superseded',
      chart: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: null },
      values: { revision: 3 },
    });
  });

  it('warns about a Secret it cannot decode', async () => {
    const broken = {
      metadata: { name: 'sh.helm.release.v1.nsm.v4', namespace: 'nginx-mesh' },
      data: { release: Buffer.from('!!').toString('base64') },
    };
    const r = await captureInstall(fakeKube([broken]), 'nginx-mesh');
    expect(r.helmRelease).toBeNull();
    expect(r.warnings.some((w) => w.startsWith('cannot decode Helm release Secret sh.helm.release.v1.nsm.v4'))).toBe(
      true,
    );
  });
});
