import http from 'node:http';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import type { Kube, KubeList } from '../../src/kube/client.ts';
import type { MeshView } from './admission.ts';
import { handleAdmission, sendJson } from './admission-http.ts';
import { issueServingCert, isServiceDnsName, type EmulatorPki } from './server.ts';
import {
  componentVersions,
  groupList,
  meshApiPath,
  openApiV2,
  openApiV3,
  proxiedResources,
  resourceList,
  type PodLike,
  type WorkloadLike,
} from './mesh-api.ts';

/**
 * The mesh's pods as the API server reaches them: every connection the egress proxy accepts for a
 * pod of a mesh lands here, TLS (webhooks on 9443, the 1.x aggregated API on 8443) or plain HTTP
 * (2.0's nginx-mesh-controller /version on 8082, through the service proxy). TLS is served with a
 * certificate for the Service name the API server asks for by SNI (`<svc>.<ns>.svc`), signed by the
 * CA the emulator patches into each caBundle; a Service it has no caBundle for fails verification,
 * as it would against a real mesh.
 */
export interface PodTarget {
  namespace: string;
  pod: string;
  port: number;
}

export interface MeshEndpoint {
  accept(socket: Socket, target: PodTarget): void;
  close(): void;
}

export function createMeshEndpoint(o: {
  pki: EmulatorPki;
  view: MeshView;
  kube: Kube;
  log: (l: string) => void;
}): MeshEndpoint {
  const targets = new WeakMap<Socket, PodTarget>();
  const contexts = new Map<string, Promise<tls.SecureContext>>();
  const contextFor = (name: string): Promise<tls.SecureContext> => {
    let ctx = contexts.get(name);
    if (!ctx) {
      ctx = issueServingCert(o.pki, name).then((c) => tls.createSecureContext({ cert: c.certPem, key: c.keyPem }));
      ctx.catch(() => contexts.delete(name));
      contexts.set(name, ctx);
    }
    return ctx;
  };
  const fallback = tls.createSecureContext({ cert: o.pki.certPem, key: o.pki.keyPem });

  const server = http.createServer((req, res) => {
    const target = targets.get(req.socket);
    const url = new URL(req.url ?? '/', 'http://pod');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (!target) return sendJson(res, 500, { message: 'mesh emulator: connection without a target pod' });
    if (req.method === 'POST') return handleAdmission(req, res, p, target.namespace, o.view, o.log);
    if (req.method !== 'GET') return sendJson(res, 405, { message: `${req.method} is not served` });
    void answerGet(p, target).then(
      ([status, body]) => sendJson(res, status, body),
      (err: Error) => {
        o.log(`error: GET ${p} for ${target.namespace}/${target.pod}: ${err.message}`);
        sendJson(res, 500, { message: `mesh emulator error: ${err.message}` });
      },
    );
  });
  server.keepAliveTimeout = 60_000;

  async function answerGet(p: string, t: PodTarget): Promise<[number, unknown]> {
    if (p === '/healthz' || p === '/readyz' || p === '/livez' || p === '/live' || p === '/ready')
      return [200, { ok: true }];
    if (p === '/apis') return [200, groupList];
    if (p === meshApiPath) return [200, resourceList];
    // Any other aggregated API of the mesh (1.x and 2.0 nginx-mesh-metrics serve v1alpha1.metrics.smi-spec.io):
    // its discovery, so the APIService is Available and clients' discovery stays quiet.
    const gv = /^\/apis\/([a-z0-9.-]+)\/(v[a-z0-9]+)$/.exec(p);
    if (gv) return [200, { ...resourceList, groupVersion: `${gv[1]}/${gv[2]}` }];
    if (p === '/openapi/v2') return [200, openApiV2];
    if (p === '/openapi/v3') return [200, openApiV3];
    if (p === '/version' || p === `${meshApiPath}/version`) {
      const workloads: WorkloadLike[] = [];
      for (const kind of ['deployments', 'daemonsets', 'statefulsets']) {
        const list = await o.kube.request<KubeList<WorkloadLike>>({
          path: `/apis/apps/v1/namespaces/${t.namespace}/${kind}`,
          query: { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' },
        });
        workloads.push(...list.items);
      }
      return [200, componentVersions(workloads)];
    }
    if (p === `${meshApiPath}/resources`) {
      const pods = await o.kube.request<KubeList<PodLike>>({ path: '/api/v1/pods' });
      return [200, proxiedResources(pods.items)];
    }
    return [404, { message: `${p} not found` }];
  }

  function accept(socket: Socket, target: PodTarget): void {
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] !== 0x16) {
        // not a TLS handshake: plain HTTP (the service proxy to a http port)
        targets.set(socket, target);
        server.emit('connection', socket);
        socket.resume();
        return;
      }
      const secure = new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: fallback,
        ALPNProtocols: ['http/1.1'],
        SNICallback: (name, cb) => {
          if (!isServiceDnsName(name)) return cb(null, fallback);
          contextFor(name).then(
            (c) => cb(null, c),
            (err: Error) => {
              o.log(`error: serving certificate for ${name}: ${err.message}`);
              cb(err);
            },
          );
        },
      });
      secure.on('error', (err) => {
        if (!/ECONNRESET|socket hang up/.test(err.message))
          o.log(`tls error from the API server to ${target.namespace}/${target.pod}:${target.port}: ${err.message}`);
        secure.destroy();
      });
      targets.set(secure, target);
      // The TLS socket reads the bytes put back above itself (tls initRead); no resume of the raw socket.
      server.emit('connection', secure);
    });
  }

  return { accept, close: () => server.closeAllConnections() };
}
