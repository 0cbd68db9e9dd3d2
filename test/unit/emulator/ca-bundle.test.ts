import { describe, expect, it } from 'vitest';
import {
  apiServiceCaPatch,
  belongsToMesh,
  webhookCaPatch,
  type WebhookConfiguration,
} from '../../emulator/ca-bundle.ts';
import { parseRequestPath } from '../../emulator/admission-http.ts';

const chartConfig = (): WebhookConfiguration => ({
  metadata: {
    name: 'sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx',
    labels: { 'app.kubernetes.io/part-of': 'nginx-service-mesh' },
  },
  webhooks: [
    {
      name: 'nginx-mesh-api.sidecar.injector',
      failurePolicy: 'Fail',
      clientConfig: { service: { name: 'nginx-mesh-webhook', namespace: 'nginx-mesh', path: '/inject' } },
    },
    { name: 'by-url', clientConfig: { url: 'https://127.0.0.1:1/x' } },
    {
      name: 'current',
      clientConfig: { caBundle: 'Q0E=', service: { name: 'k8s-workload-registrar', namespace: 'nginx-mesh' } },
    },
  ],
});

describe('webhookCaPatch', () => {
  it('adds the caBundle to each Service webhook lacking it (guarded by its name), leaving URL webhooks and current ones alone', () => {
    expect(webhookCaPatch(chartConfig(), 'Q0E=')).toEqual([
      { op: 'test', path: '/webhooks/0/name', value: 'nginx-mesh-api.sidecar.injector' },
      { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: 'Q0E=' },
    ]);
  });
  it('replaces another CA, and is a no-op once every Service webhook has ours', () => {
    const cfg = chartConfig();
    cfg.webhooks![0]!.clientConfig!.caBundle = 'Q0E=';
    expect(webhookCaPatch(cfg, 'Q0E=')).toBeUndefined();
    expect(
      webhookCaPatch(cfg, 'TkVX')
        ?.filter((o) => o.op === 'add')
        .map((o) => o.path),
    ).toEqual(['/webhooks/0/clientConfig/caBundle', '/webhooks/2/clientConfig/caBundle']);
  });
});

describe('apiServiceCaPatch', () => {
  it('patches the mesh APIService (Service reference, no caBundle in the chart) and nothing that is current or local', () => {
    const svc = {
      metadata: { name: 'v1alpha1.nsm.nginx.com' },
      spec: { service: { name: 'nginx-mesh-api', namespace: 'nginx-mesh', port: 443 } },
    };
    expect(apiServiceCaPatch(svc, 'Q0E=')).toEqual({ spec: { caBundle: 'Q0E=' } });
    expect(apiServiceCaPatch({ ...svc, spec: { ...svc.spec, caBundle: 'Q0E=' } }, 'Q0E=')).toBeUndefined();
    expect(apiServiceCaPatch({ metadata: { name: 'v1.apps' }, spec: {} }, 'Q0E=')).toBeUndefined();
    expect(apiServiceCaPatch({ ...svc, spec: { ...svc.spec, insecureSkipTLSVerify: true } }, 'Q0E=')).toBeUndefined();
  });
});

describe('belongsToMesh', () => {
  it('knows the charts names and the part-of label, and honours a scope', () => {
    expect(belongsToMesh({ metadata: { name: 'validating-webhook-cfg.internal.builtin.nsm.nginx' } })).toBe(true);
    expect(belongsToMesh({ metadata: { name: 'v1alpha1.nsm.nginx.com' } })).toBe(true);
    expect(
      belongsToMesh({ metadata: { name: 'x', labels: { 'app.kubernetes.io/part-of': 'nginx-service-mesh' } } }),
    ).toBe(true);
    expect(belongsToMesh({ metadata: { name: 'cert-manager-webhook' } })).toBe(false);
    expect(belongsToMesh(chartConfig(), { 'test/id': 'a' })).toBe(false);
    expect(belongsToMesh({ metadata: { name: 'fixture', labels: { 'nsm-upgrade.test/mesh-webhooks': 'true' } } })).toBe(
      true,
    );
  });
});

describe('parseRequestPath (loopback URLs)', () => {
  it('reads the mesh namespace from /mesh/<ns>/<path>', () => {
    expect(parseRequestPath('/mesh/m3/validate')).toEqual({ meshNamespace: 'm3', path: '/validate' });
    expect(parseRequestPath('/inject')).toEqual({ path: '/inject' });
  });
});
