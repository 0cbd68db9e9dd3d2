/**
 * How the client's requests reach the API server: HTTP/2 where the server offers it (kube-apiserver
 * does over TLS, by ALPN), else HTTP/1.1 (a plain http:// server, a proxy that speaks only 1.1).
 * HTTP/2 multiplexes every request on a few connections and costs the client about half the CPU per
 * request of Node's HTTP/1.1 stack (bench/http2-probe.ts), which a restore of 10,000s of objects feels.
 *
 *   chooseTransport(target, { http }): Transport     the protocol is settled on the first request
 *
 * `http: '1.1'` (NSM_UPGRADE_HTTP=1.1, read by cli/context.ts) forces HTTP/1.1, for a server or
 * proxy that offers h2 but mishandles it, and for tests of the other transport.
 */
import tls from 'node:tls';
import { http1Transport } from './http1.ts';
import { http2Transport } from './http2.ts';
import type { HttpVersionOption, Target, Transport } from './transport-types.ts';

/** Error codes of an HTTP/2 stream or session that died under a request: the request may be sent again. */
export const http2RetryableCodes = [
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_ERROR',
];

/** Connects once with ALPN h2 and http/1.1; the server's pick decides, and the socket serves the first HTTP/2 session. */
function negotiate(target: Target): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.base.hostname,
      port: Number(target.base.port || 443),
      ALPNProtocols: ['h2', 'http/1.1'],
      ...target.tls,
      servername: target.tls.servername ?? (isIp(target.base.hostname) ? undefined : target.base.hostname),
    });
    socket.once('secureConnect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(':');

export function chooseTransport(target: Target, opts: { http?: HttpVersionOption | undefined } = {}): Transport {
  const http1 = () => http1Transport(target);
  if (target.base.protocol !== 'https:' || opts.http === '1.1') {
    return http1();
  }
  let chosen: Promise<Transport> | undefined;
  let protocol: Transport['protocol'];
  const settle = async (): Promise<Transport> => {
    const socket = await negotiate(target);
    if (socket.alpnProtocol === 'h2') {
      protocol = 'h2';
      return http2Transport(target, socket);
    }
    socket.destroy();
    protocol = 'http/1.1';
    return http1();
  };
  return {
    get protocol() {
      return protocol;
    },
    async open(r) {
      // A failed first connection (server down) is settled again by the next request.
      chosen ??= settle().catch((err: unknown) => {
        chosen = undefined;
        throw err;
      });
      return (await chosen).open(r);
    },
  };
}
