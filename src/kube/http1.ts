/**
 * HTTP/1.1 to the API server (transport.ts): one keep-alive agent of `maxSockets` for requests, and
 * one without a socket limit for watches, so fifty watches (a restart over fifty namespaces) never
 * leave the requests waiting for a socket.
 */
import http from 'node:http';
import https from 'node:https';
import type { OpenRequest, OpenResponse, Target, Transport } from './transport-types.ts';

export function http1Transport(target: Target): Transport {
  const isHttps = target.base.protocol === 'https:';
  const t = target.tls;
  const makeAgent = (maxSockets: number) =>
    isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets,
          ca: t.ca,
          cert: t.cert,
          key: t.key,
          rejectUnauthorized: t.rejectUnauthorized,
          servername: t.servername,
        })
      : new http.Agent({ keepAlive: true, maxSockets });
  const agent = makeAgent(target.maxSockets);
  const watchAgent = makeAgent(Infinity);
  const lib = isHttps ? https : http;
  const basePath = target.base.pathname.replace(/\/$/, '');

  function open(r: OpenRequest): Promise<OpenResponse> {
    return new Promise((resolve, reject) => {
      const req = lib.request(
        {
          protocol: target.base.protocol,
          hostname: target.base.hostname,
          port: target.base.port,
          method: r.method,
          agent: r.long ? watchAgent : agent,
          path: basePath + r.path,
          signal: r.signal,
          headers: { ...r.headers, ...(r.body !== undefined ? { 'Content-Length': Buffer.byteLength(r.body) } : {}) },
          ...(r.timeoutMs ? { timeout: r.timeoutMs } : {}),
        },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (r.body !== undefined) req.write(r.body);
      req.end();
    });
  }
  return { protocol: 'http/1.1', open };
}
