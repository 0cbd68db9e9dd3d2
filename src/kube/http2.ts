/**
 * HTTP/2 to the API server (transport.ts): requests and watches are streams multiplexed over a few
 * TLS connections (sessions). A server caps the streams open at once per connection (kube-apiserver:
 * 100, in its SETTINGS); a stream beyond waits until one ends, which a watch may not do for minutes,
 * so the pool counts the open streams of each session and opens another session when all are full
 * (a restart's fifty watches beside a restore's 32 creates). A session that dies (GOAWAY, reset, error) leaves the
 * pool at once; its streams fail with retryable errors, and the next request opens a new one. An idle
 * session does not keep the process alive (unref), a busy one does.
 */
import http2 from 'node:http2';
import type tls from 'node:tls';
import type { OpenRequest, OpenResponse, Target, Transport } from './transport-types.ts';

interface Session {
  s: http2.ClientHttp2Session;
  /** The server's limit, once its SETTINGS arrived. */
  max: number | undefined;
  active: number;
  /** Resolves when the server's SETTINGS arrive; rejects when the connection fails first. */
  ready: Promise<void>;
  dead: boolean;
}

/** Streams a new session takes before the server's SETTINGS say its limit: the first requests need not wait a round trip. */
const beforeSettings = 8;

/** Connection-specific headers HTTP/2 forbids. */
const forbidden = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** Larger flow-control windows than HTTP/2's 64 KB default (a list page of 500 objects is a megabyte), small enough that what the server sends ahead of the reader stays a few megabytes. */
const streamWindow = 1024 * 1024;
const sessionWindow = 8 * 1024 * 1024;

export function http2Transport(target: Target, first?: tls.TLSSocket): Transport {
  const sessions: Session[] = [];
  const basePath = target.base.pathname.replace(/\/$/, '');
  let firstSocket = first;

  function connect(): Session {
    const socket = firstSocket;
    firstSocket = undefined;
    const s = http2.connect(target.base.origin, {
      ...target.tls,
      settings: { initialWindowSize: streamWindow, enablePush: false },
      ...(socket ? { createConnection: () => socket } : {}),
    });
    const entry: Session = { s, max: undefined, active: 0, dead: false, ready: Promise.resolve() };
    const drop = () => {
      entry.dead = true;
      const i = sessions.indexOf(entry);
      if (i >= 0) sessions.splice(i, 1);
    };
    entry.ready = new Promise<void>((resolve, reject) => {
      s.once('remoteSettings', () => resolve());
      s.once('error', reject);
      s.once('close', () =>
        reject(Object.assign(new Error('the HTTP/2 connection closed before it was ready'), { code: 'ECONNRESET' })),
      );
    });
    entry.ready.catch(() => undefined);
    s.on('remoteSettings', (settings: http2.Settings) => {
      entry.max = settings.maxConcurrentStreams ?? 100;
    });
    s.once('connect', () => {
      try {
        s.setLocalWindowSize(sessionWindow);
      } catch {
        /* closing */
      }
    });
    s.on('error', drop);
    s.on('goaway', drop);
    s.on('close', drop);
    sessions.push(entry);
    return entry;
  }

  /** A session with a free stream, opening one when every session is full (a new one takes a few before the server's SETTINGS). */
  async function acquire(): Promise<Session> {
    for (;;) {
      const free = sessions.find((x) => !x.dead && x.active < (x.max ?? beforeSettings));
      if (free) {
        if (free.active++ === 0) free.s.ref();
        return free;
      }
      const pending = sessions.find((x) => !x.dead && x.max === undefined);
      if (pending) await pending.ready;
      else connect();
    }
  }

  function release(e: Session): void {
    if (--e.active === 0 && !e.dead) e.s.unref();
  }

  async function open(r: OpenRequest): Promise<OpenResponse> {
    const e = await acquire();
    return new Promise((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = { ':method': r.method, ':path': basePath + r.path };
      for (const [k, v] of Object.entries(r.headers)) if (!forbidden.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
      if (r.body !== undefined) headers['content-length'] = Buffer.byteLength(r.body);
      let stream: http2.ClientHttp2Stream;
      try {
        stream = e.s.request(headers, { endStream: r.body === undefined, ...(r.signal ? { signal: r.signal } : {}) });
      } catch (err) {
        // The session closed between acquire and request: a retryable failure, like a reset connection.
        release(e);
        e.dead = true;
        reject(
          Object.assign(err as Error, { code: (err as NodeJS.ErrnoException).code ?? 'ERR_HTTP2_INVALID_SESSION' }),
        );
        return;
      }
      let answered = false;
      stream.once('close', () => {
        release(e);
        // Closed before its response (the session went without a GOAWAY for it): the request fails,
        // retryably. After the response, the body's reader sees the close (client.ts readAll).
        if (!answered)
          reject(
            Object.assign(
              new Error(`the HTTP/2 stream closed before its response (RST_STREAM code ${stream.rstCode ?? 'none'})`),
              { code: 'ERR_HTTP2_STREAM_ERROR' },
            ),
          );
      });
      if (r.timeoutMs)
        stream.setTimeout(r.timeoutMs, () =>
          stream.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
        );
      stream.once('response', (h) => {
        answered = true;
        const { ':status': status, ...rest } = h;
        resolve({ status: Number(status ?? 0), headers: rest, body: stream });
      });
      stream.on('error', reject); // after the response, the body's reader hears errors too
      if (r.body !== undefined) stream.end(r.body);
    });
  }
  return { protocol: 'h2', open };
}
