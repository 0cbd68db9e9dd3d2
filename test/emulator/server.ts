import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execa } from 'execa';
import type { AddressInfo } from 'node:net';
import { answerReview, reviewResponse, type AdmissionReview, type MeshView } from './admission.ts';

/**
 * The HTTPS endpoint (and its certificate) the API server calls for every mesh webhook. One bad request gets an
 * AdmissionReview error answer (or a 400), never a crash.
 */
export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

const maxBody = 8 * 1024 * 1024;

export async function startWebhookServer(pki: EmulatorPki, view: MeshView, log: (line: string) => void, port = 0): Promise<WebhookServer> {
  const server = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (req.method === 'GET' && (url.pathname === '/healthz' || url.pathname === '/readyz')) return send(200, { ok: true });
    if (req.method !== 'POST') return send(405, { error: 'webhooks take POST' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) { req.destroy(); return; }
      chunks.push(c);
    });
    req.on('error', (e) => log(`error: reading ${url.pathname}: ${e.message}`));
    req.on('end', () => {
      let review: AdmissionReview;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
      } catch (err) {
        log(`error: ${url.pathname}: body is not JSON: ${(err as Error).message}`);
        return send(400, reviewResponse({}, { allowed: false, code: 400, message: 'body is not a JSON AdmissionReview' }));
      }
      try {
        send(200, answerReview(url.pathname, review ?? {}, view, log));
      } catch (err) {
        log(`error: ${url.pathname}: ${(err as Error).message}`);
        send(200, reviewResponse(review ?? {}, { allowed: false, code: 500, message: `mesh emulator error: ${(err as Error).message}` }));
      }
    });
  });
  server.on('tlsClientError', (err) => log(`tls client error: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/**
 * The emulator's own CA and serving certificate (SAN IP:127.0.0.1, DNS:localhost), made fresh at
 * every start with the openssl CLI (argument arrays, no shell) in <state-dir>/emulator-pki/.
 * The API server trusts it through each webhook's caBundle.
 */
export interface EmulatorPki {
  dir: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const serverExtensions = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=IP:127.0.0.1,DNS:localhost',
].join('\n') + '\n';

async function openssl(args: string[], cwd: string): Promise<void> {
  await execa('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function createEmulatorPki(stateDir: string): Promise<EmulatorPki> {
  const dir = path.join(stateDir, 'emulator-pki');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=nsm-emulator-ca',
    '-keyout', 'ca.key', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'], dir);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'), serverExtensions);
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '825', '-out', 'server.crt', '-extfile', 'server.ext'], dir);
  for (const f of ['ca.key', 'server.key']) fs.chmodSync(path.join(dir, f), 0o600);
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { dir, caPem: read('ca.crt'), certPem: read('server.crt'), keyPem: read('server.key') };
}
