import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from '../../../src/kube/client.ts';
import { createEmulatorPki, type EmulatorPki } from '../../emulator/server.ts';
import { createMeshEndpoint } from '../../emulator/mesh-endpoint.ts';
import { startEgressProxy, type EgressProxy } from '../../emulator/egress-proxy.ts';
import { defaultInjectionConfig } from '../../emulator/inject.ts';
import type { MeshView } from '../../emulator/admission.ts';

// The API server's side of the egress selector, played with Node: CONNECT over the Unix socket, then
// TLS (checking the emulator CA and the Service name) or plain HTTP through the tunnel.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-egress-test-'));
const socket = path.join(dir, 'egress.sock');
const view: MeshView = {
  controlPlane: (ns) =>
    ns === 'mesh'
      ? { namespace: 'mesh', deployment: 'nginx-mesh-api', registry: 'r', version: '1.7.0', major: 1, ready: true }
      : undefined,
  namespaceLabels: () => ({}),
  injectionConfig: () => defaultInjectionConfig,
};
const pods: Record<string, { metadata: Record<string, unknown> }> = {
  '10.244.0.5': {
    metadata: {
      name: 'nginx-mesh-api-1',
      namespace: 'mesh',
      labels: { 'app.kubernetes.io/part-of': 'nginx-service-mesh' },
    },
  },
  '10.244.0.6': {
    metadata: {
      name: 'web-1',
      namespace: 'shop',
      annotations: { 'injector.nsm.nginx.com/status': 'injected' },
      ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }],
    },
  },
};
const kube = {
  async request({ path: p, query }: { path: string; query?: Record<string, string> }) {
    if (p === '/api/v1/pods' && query?.fieldSelector)
      return { items: [pods[query.fieldSelector.split('=')[1]!]].filter(Boolean) };
    if (p === '/api/v1/pods') return { items: Object.values(pods) };
    if (p.startsWith('/apis/apps/v1/namespaces/mesh/deployments'))
      return { items: [{ spec: { template: { spec: { containers: [{ image: 'r/nginx-mesh-api:1.7.0' }] } } } }] };
    return { items: [] };
  },
} as unknown as Kube;
let pki: EmulatorPki;
let proxy: EgressProxy;
let loopback: net.Server;

function connect(authority: string): Promise<{ status: number; socket: net.Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'CONNECT', path: authority });
    req.on('connect', (res, s, head) => resolve({ status: res.statusCode ?? 0, socket: s, head }));
    req.on('error', reject);
    req.end();
  });
}

function overTunnel(
  s: net.Socket,
  opts: { tls?: string; method: string; path: string; body?: string },
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const conn = opts.tls ? tls.connect({ socket: s, servername: opts.tls, ca: pki.caPem }) : s;
    const req = http.request(
      {
        createConnection: () => conn,
        method: opts.method,
        path: opts.path,
        headers: { 'Content-Type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  pki = await createEmulatorPki(dir);
  const endpoint = createMeshEndpoint({ pki, view, kube, log: () => {} });
  proxy = await startEgressProxy({
    socket,
    kube,
    endpoint,
    log: () => {},
    plays: (ns, labels) => labels['app.kubernetes.io/part-of'] === 'nginx-service-mesh' || ns === 'mesh',
  });
  loopback = net.createServer((c) => c.end('hello\n'));
  await new Promise<void>((r) => loopback.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  await proxy?.close();
  loopback?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('egress proxy and mesh endpoint', () => {
  it('answers a webhook on a mesh pod over TLS for the Service name, with the mesh of that pod', async () => {
    const { status, socket: s } = await connect('10.244.0.5:9443');
    expect(status).toBe(200);
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u1',
        kind: { kind: 'Pod' },
        namespace: 'shop',
        operation: 'CREATE',
        object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } },
      },
    };
    const r = await overTunnel(s, {
      tls: 'nginx-mesh-webhook.mesh.svc',
      method: 'POST',
      path: '/inject',
      body: JSON.stringify(review),
    });
    expect(r.json.response).toMatchObject({ uid: 'u1', allowed: true, patchType: 'JSONPatch' });
  });

  it('serves the 1.x aggregated API: discovery, version and the sidecar workloads', async () => {
    const get = async (p: string) =>
      overTunnel((await connect('10.244.0.5:8443')).socket, { tls: 'nginx-mesh-api.mesh.svc', method: 'GET', path: p });
    expect((await get('/apis/nsm.nginx.com/v1alpha1')).json).toMatchObject({
      kind: 'APIResourceList',
      groupVersion: 'nsm.nginx.com/v1alpha1',
    });
    expect((await get('/apis/nsm.nginx.com/v1alpha1/version')).json).toEqual({ 'nginx-mesh-api': ['1.7.0'] });
    expect((await get('/apis/nsm.nginx.com/v1alpha1/resources')).json).toEqual({ shop: { statefulset: ['web'] } });
  });

  it('serves plain HTTP /version (2.0 nginx-mesh-controller:8082 through the service proxy)', async () => {
    const r = await overTunnel((await connect('10.244.0.5:8082')).socket, { method: 'GET', path: '/version' });
    expect(r).toEqual({ status: 200, json: { 'nginx-mesh-api': ['1.7.0'] } });
  });

  it('tunnels loopback as is, and refuses pods it does not play and unknown addresses', async () => {
    const lo = await connect(`127.0.0.1:${(loopback.address() as net.AddressInfo).port}`);
    expect(lo.status).toBe(200);
    const text = await new Promise<string>((r) => {
      let t = lo.head.toString();
      lo.socket.on('data', (c) => {
        t += c;
      });
      lo.socket.on('end', () => r(t));
    });
    expect(text).toBe('hello\n');
    expect((await connect('10.244.0.6:80')).status).toBe(502);
    expect((await connect('10.244.9.9:443')).status).toBe(502);
  });
});
