import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/**
 * The local cluster's certificates, made with the openssl CLI (argument arrays, no shell):
 * a cluster CA, the API server's serving certificate, an admin client certificate
 * (O=system:masters), a front-proxy CA and client for API aggregation, and the
 * service-account signing key. A user's cluster has the same pieces.
 */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  frontProxyCaCert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  saKey: string;
  saPub: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await execa('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
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
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    dir,
  );
}

async function makeLeaf(dir: string, name: string, ca: string, subj: string, ext: string): Promise<void> {
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`],
    dir,
  );
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '3650',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

export async function createPki(dir: string): Promise<Pki> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => path.join(dir, f);
  if (!fs.existsSync(p('sa.pub'))) {
    await makeCa(dir, 'ca', 'nsm-upgrade-local-ca');
    await makeLeaf(
      dir,
      'apiserver',
      'ca',
      '/CN=kube-apiserver',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
        'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n',
    );
    await makeLeaf(
      dir,
      'admin',
      'ca',
      '/O=system:masters/CN=kubernetes-admin',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
    );
    await makeCa(dir, 'front-proxy-ca', 'front-proxy-ca');
    await makeLeaf(
      dir,
      'front-proxy-client',
      'front-proxy-ca',
      '/CN=front-proxy-client',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
    );
    await openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
    await openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
    for (const f of fs.readdirSync(dir)) fs.chmodSync(p(f), 0o600);
  }
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    frontProxyCaCert: p('front-proxy-ca.crt'),
    frontProxyClientCert: p('front-proxy-client.crt'),
    frontProxyClientKey: p('front-proxy-client.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

/**
 * A serving certificate for 127.0.0.1 and localhost signed by the cluster CA (the test bed's registry):
 * <name>.crt and <name>.key in the PKI directory, made once, private (0600).
 */
export async function createServingCert(pki: Pki, name: string, cn: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(pki.dir, `${name}.crt`),
    key = path.join(pki.dir, `${name}.key`);
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    await makeLeaf(
      pki.dir,
      name,
      'ca',
      `/CN=${cn}`,
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    );
    for (const f of fs.readdirSync(pki.dir)) fs.chmodSync(path.join(pki.dir, f), 0o600);
  }
  return { cert, key };
}

/**
 * A kubeconfig for the admin user with embedded certificate data (portable, like a user's). `name`
 * names its context, cluster and user (nsm-local; a second cluster of `cluster:up --clusters 2` is nsm-local-2).
 */
export function adminKubeconfig(pki: Pki, server: string, name = 'nsm-local'): string {
  const b64 = (f: string) => fs.readFileSync(f).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${name}`,
    'preferences: {}',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    `- name: ${name}-admin`,
    '  user:',
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}-admin`,
    '',
  ].join('\n');
}
