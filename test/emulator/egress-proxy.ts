import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Kube, KubeList, KubeObject } from '../../src/kube/client.ts';
import type { MeshEndpoint } from './mesh-endpoint.ts';

/**
 * The API server's egress proxy for cluster traffic (kube-apiserver --egress-selector-config-file,
 * egress `cluster`, HTTPConnect over a Unix socket; see test/cluster/components.ts). Each
 * `CONNECT <ip>:<port>` is what a real API server would dial on the pod network:
 * - a loopback address (the KWOK nodes' kubelet, 127.0.0.1): tunnelled to it as is;
 * - a pod IP (--enable-aggregator-routing=true makes aggregated APIs, Service webhooks and the service
 *   proxy all dial endpoints): handed to the mesh endpoint when the pod is part of NGINX Service Mesh;
 * - anything else: refused with 502, as an unreachable address would be.
 * Nothing leaves loopback and this socket.
 */
export interface EgressProxy {
  close(): Promise<void>;
}

interface PodLike extends KubeObject {
  status?: { podIP?: string };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** host and port of a CONNECT target ("10.244.0.7:9443", "[::1]:10250"). */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  return port > 0 && port < 65536 ? { host: (m[1] ?? m[2])!, port } : undefined;
}

export interface EgressProxyOptions {
  socket: string;
  kube: Kube;
  endpoint: MeshEndpoint;
  log: (l: string) => void;
  /** Whether a pod is one the emulator plays: part of NGINX Service Mesh, or in a namespace with a mesh control plane. */
  plays: (namespace: string, labels: Record<string, string>) => boolean;
}

export async function startEgressProxy(o: EgressProxyOptions): Promise<EgressProxy> {
  const open = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end('CONNECT only\n');
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    const target = parseAuthority(req.url ?? '');
    const refuse = (why: string) => {
      o.log(`egress: refused CONNECT ${req.url}: ${why}`);
      client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\n${why}\n`);
    };
    if (!target) return refuse('not a host:port');
    if (head.length) client.unshift(head);
    if (isLoopback(target.host)) {
      const upstream = net.connect(target.port, target.host, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', (err) => {
        if (!client.writableEnded) refuse(err.message);
        upstream.destroy();
      });
      client.on('close', () => upstream.destroy());
      return;
    }
    void podAt(target.host).then(
      (pod) => {
        if (!pod) return refuse(`no pod has IP ${target.host}`);
        if (!o.plays(pod.metadata?.namespace ?? '', pod.metadata?.labels ?? {})) {
          return refuse(
            `pod ${pod.metadata?.namespace}/${pod.metadata?.name} (${target.host}) is not played by the mesh emulator`,
          );
        }
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        o.endpoint.accept(client, {
          namespace: pod.metadata?.namespace ?? '',
          pod: pod.metadata?.name ?? '',
          port: target.port,
        });
      },
      (err: Error) => refuse(`looking up pod ${target.host}: ${err.message}`),
    );
  });

  async function podAt(ip: string): Promise<PodLike | undefined> {
    const list = await o.kube.request<KubeList<PodLike>>({
      path: '/api/v1/pods',
      query: { fieldSelector: `status.podIP=${ip}` },
    });
    // A terminating pod may still hold the IP next to its successor; the running one answers.
    return list.items.find((p) => !p.metadata?.deletionTimestamp) ?? list.items[0];
  }

  fs.rmSync(o.socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(o.socket, 0o600);
  o.log(`egress proxy for the API server listening on ${o.socket}`);
  return {
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
        fs.rmSync(o.socket, { force: true });
      }),
  };
}
