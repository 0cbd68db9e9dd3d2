import { describe, expect, it } from 'vitest';
import { belongsToMesh, parseRequestPath, rewriteWebhooks, routeOf, type WebhookConfiguration } from '../../emulator/webhook-rewrite.ts';

const target = { baseUrl: 'https://127.0.0.1:4443', caBundle: 'Q0E=' };
const chartConfig = (): WebhookConfiguration => ({
  metadata: { name: 'sidecar-injector-webhook-cfg.internal.builtin.nsm.nginx', labels: { 'app.kubernetes.io/part-of': 'nginx-service-mesh' } },
  webhooks: [
    { name: 'nginx-mesh-api.sidecar.injector', failurePolicy: 'Fail', clientConfig: { service: { name: 'nginx-mesh-webhook', namespace: 'nginx-mesh', path: '/inject' } } },
    { name: 'other', clientConfig: { service: { name: 'k8s-workload-registrar', namespace: 'nginx-mesh', path: '/validate-spiffeid-spiffe-io-v1beta1-spiffeid' } } },
  ],
});

describe('rewriteWebhooks', () => {
  it('replaces each chart webhook by an emulated copy pointed at the emulator, keeping the mesh namespace, path and everything else', () => {
    const out = rewriteWebhooks(chartConfig(), target)!;
    expect(out[0]).toEqual({ name: 'emulated.nginx-mesh-api.sidecar.injector', failurePolicy: 'Fail', clientConfig: { url: 'https://127.0.0.1:4443/mesh/nginx-mesh/inject', caBundle: 'Q0E=' } });
    expect(out[1]).toEqual({ name: 'emulated.other', clientConfig: { url: 'https://127.0.0.1:4443/mesh/nginx-mesh/validate-spiffeid-spiffe-io-v1beta1-spiffeid', caBundle: 'Q0E=' } });
  });
  it('is a no-op once rewritten, and re-points copies left by an earlier emulator', () => {
    const cfg = chartConfig();
    cfg.webhooks = rewriteWebhooks(cfg, target);
    expect(rewriteWebhooks(cfg, target)).toBeUndefined();
    const moved = rewriteWebhooks(cfg, { baseUrl: 'https://127.0.0.1:5555', caBundle: 'TkVX' })!;
    expect(moved.map((h) => [h.name, h.clientConfig])).toEqual([
      ['emulated.nginx-mesh-api.sidecar.injector', { url: 'https://127.0.0.1:5555/mesh/nginx-mesh/inject', caBundle: 'TkVX' }],
      ['emulated.other', { url: 'https://127.0.0.1:5555/mesh/nginx-mesh/validate-spiffeid-spiffe-io-v1beta1-spiffeid', caBundle: 'TkVX' }],
    ]);
  });
  it('after an upgrade re-added the chart entries, keeps copies of exactly those (new rules; webhooks the new chart dropped go)', () => {
    const cfg = chartConfig();
    const copies = rewriteWebhooks(cfg, target)!;
    // what `helm upgrade` to a chart with one webhook leaves: the old copies plus that entry
    cfg.webhooks = [...copies, { name: 'nginx-mesh-controller.sidecar.injector', rules: ['new'], failurePolicy: 'Fail', clientConfig: { service: { namespace: 'nginx-mesh', path: '/inject' } } }];
    expect(rewriteWebhooks(cfg, target)).toEqual([
      { name: 'emulated.nginx-mesh-controller.sidecar.injector', rules: ['new'], failurePolicy: 'Fail', clientConfig: { url: 'https://127.0.0.1:4443/mesh/nginx-mesh/inject', caBundle: 'Q0E=' } },
    ]);
  });
  it('treats a wrong CA as needing a rewrite', () => {
    const cfg = chartConfig();
    cfg.webhooks = rewriteWebhooks(cfg, target)!.map((h) => ({ ...h, clientConfig: { ...h.clientConfig, caBundle: 'b2xk' } }));
    expect(rewriteWebhooks(cfg, target)?.map((h) => h.clientConfig?.caBundle)).toEqual(['Q0E=', 'Q0E=']);
  });
});

describe('belongsToMesh', () => {
  it('knows the charts names and the part-of label, and honours a scope', () => {
    expect(belongsToMesh({ metadata: { name: 'validating-webhook-cfg.internal.builtin.nsm.nginx' } })).toBe(true);
    expect(belongsToMesh({ metadata: { name: 'x', labels: { 'app.kubernetes.io/part-of': 'nginx-service-mesh' } } })).toBe(true);
    expect(belongsToMesh({ metadata: { name: 'cert-manager-webhook' } })).toBe(false);
    expect(belongsToMesh(chartConfig(), { 'test/id': 'a' })).toBe(false);
    expect(belongsToMesh({ metadata: { name: 'fixture', labels: { 'nsm-upgrade.test/mesh-webhooks': 'true' } } })).toBe(true);
  });
});

describe('routes', () => {
  it('reads the mesh namespace from a Service or an emulator URL', () => {
    expect(routeOf({ service: { namespace: 'm1', path: '/validate' } })).toEqual({ meshNamespace: 'm1', path: '/validate' });
    expect(routeOf({ url: 'https://127.0.0.1:1/mesh/m2/inject' })).toEqual({ meshNamespace: 'm2', path: '/inject' });
    expect(routeOf({ url: 'https://example/inject' })).toEqual({ path: '/inject' });
    expect(parseRequestPath('/mesh/m3/validate')).toEqual({ meshNamespace: 'm3', path: '/validate' });
    expect(parseRequestPath('/inject')).toEqual({ path: '/inject' });
  });
});
