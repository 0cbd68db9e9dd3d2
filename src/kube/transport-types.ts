/**
 * The types a transport of the kube client shares (transport.ts chooses one; http1.ts and http2.ts are
 * the two): what a request and a response are, where the server is.
 */
import type tls from 'node:tls';
import type { Readable } from 'node:stream';

export type HttpVersionOption = 'auto' | '1.1';

/** The server and the TLS material from the kubeconfig (client-node's applyToHTTPSOptions). */
export interface Target {
  base: URL;
  tls: {
    ca?: tls.SecureContextOptions['ca'];
    cert?: tls.SecureContextOptions['cert'];
    key?: tls.SecureContextOptions['key'];
    rejectUnauthorized?: boolean | undefined;
    servername?: string | undefined;
  };
  /** At most this many ordinary requests at once over HTTP/1.1 (its socket pool); HTTP/2 multiplexes. */
  maxSockets: number;
}

export interface OpenRequest {
  method: string;
  /** Path and query, below the server's base path. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer | undefined;
  /** No byte for this long fails the request with ETIMEDOUT (none for watches: they have their own idle timer). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** A watch: it holds its stream for minutes, so over HTTP/1.1 it gets a connection outside the request pool. */
  long?: boolean;
}

export interface OpenResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it arrives; destroy() ends the request (and, over HTTP/1.1, its connection). */
  body: Readable;
}

export interface Transport {
  /** The protocol in use once settled ('h2' or 'http/1.1'); undefined before the first request. */
  readonly protocol: 'h2' | 'http/1.1' | undefined;
  open(r: OpenRequest): Promise<OpenResponse>;
}
