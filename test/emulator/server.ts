import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execa } from 'execa';
import type { AddressInfo } from 'node:net';
import type { MeshView } from './admission.ts';
import { handleAdmission, parseRequestPath, sendJson } from './admission-http.ts';

/**
 * The HTTPS endpoint (and its certificate) the API server calls for every mesh webhook. One bad request gets an
 * AdmissionReview error answer (or a 400), never a crash.
 */
export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

export async function startWebhookServer(
  pki: EmulatorPki,
  view: MeshView,
  log: (line: string) => void,
  port = 0,
): Promise<WebhookServer> {
  const server = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (req.method === 'GET' && (url.pathname === '/healthz' || url.pathname === '/readyz'))
      return sendJson(res, 200, { ok: true });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'webhooks take POST' });
    const { meshNamespace, path: chartPath } = parseRequestPath(url.pathname);
    handleAdmission(req, res, chartPath, meshNamespace, view, log);
  });
  server.on('tlsClientError', (err) => log(`tls client error: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
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

export const serverExtensions =
  [
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
  // The CA outlives a restart: the caBundles patched into the cluster stay valid while the new process patches again.
  if (!fs.existsSync(path.join(dir, 'ca.key')) || !fs.existsSync(path.join(dir, 'ca.crt'))) {
    await openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        '/CN=nsm-emulator-ca',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ],
      dir,
    );
  }
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'],
    dir,
  );
  fs.writeFileSync(path.join(dir, 'server.ext'), serverExtensions);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '825',
      '-out',
      'server.crt',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  for (const f of ['ca.key', 'server.key']) fs.chmodSync(path.join(dir, f), 0o600);
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { dir, caPem: read('ca.crt'), certPem: read('server.crt'), keyPem: read('server.key') };
}

/** A DNS name a serving certificate may be issued for (what a Service's TLS client asks by SNI). */
export function isServiceDnsName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(name);
}

/**
 * A serving certificate for one Service DNS name (`<service>.<namespace>.svc`), signed by the
 * emulator's CA: what the API server verifies when it calls a webhook or an aggregated API through
 * a Service. EC keys: quick to make at the first connection.
 */
export async function issueServingCert(
  pki: EmulatorPki,
  dnsName: string,
): Promise<{ certPem: string; keyPem: string }> {
  if (!isServiceDnsName(dnsName)) throw new Error(`not a DNS name: ${JSON.stringify(dnsName)}`);
  const dir = fs.mkdtempSync(path.join(pki.dir, 'leaf-'));
  try {
    await openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        `/CN=${dnsName}`,
        '-keyout',
        'leaf.key',
        '-out',
        'leaf.csr',
      ],
      dir,
    );
    fs.writeFileSync(
      path.join(dir, 'leaf.ext'),
      serverExtensions.replace('IP:127.0.0.1,DNS:localhost', `DNS:${dnsName},DNS:${dnsName}.cluster.local`),
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        path.join(pki.dir, 'ca.crt'),
        '-CAkey',
        path.join(pki.dir, 'ca.key'),
        '-CAserial',
        path.join(dir, 'ca.srl'),
        '-CAcreateserial',
        '-days',
        '825',
        '-out',
        'leaf.crt',
        '-extfile',
        'leaf.ext',
      ],
      dir,
    );
    return {
      certPem: fs.readFileSync(path.join(dir, 'leaf.crt'), 'utf8'),
      keyPem: fs.readFileSync(path.join(dir, 'leaf.key'), 'utf8'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
