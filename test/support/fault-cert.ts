/**
 * Credentials for the fault proxy: a serving certificate for 127.0.0.1 signed by the local
 * cluster CA (so a kubeconfig with the cluster's CA trusts the proxy), and the facts the proxy
 * needs about the real API server. openssl runs with argument arrays; nothing goes to a shell.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { dump, load } from 'js-yaml';
import { clusterDir, kubeconfigPath } from './cluster.ts';

export interface Upstream {
  /** The real API server, e.g. https://127.0.0.1:45953. */
  server: string;
  ca: Buffer;
  /** The admin client certificate, used when the client sent no Authorization header. */
  adminCert: Buffer;
  adminKey: Buffer;
}

interface KubeconfigFile {
  clusters: { cluster: { server: string } }[];
}

/** Reads the real server from the cluster kubeconfig and the CA/admin credentials from .cluster/pki. */
export async function loadUpstream(pkiDir = path.join(clusterDir, 'pki')): Promise<Upstream> {
  const kc = load(await fs.readFile(kubeconfigPath(), 'utf8')) as KubeconfigFile;
  const server = kc.clusters[0]?.cluster.server;
  if (!server) throw new Error(`no cluster server in ${kubeconfigPath()}`);
  const read = (f: string) => fs.readFile(path.join(pkiDir, f));
  return { server, ca: await read('ca.crt'), adminCert: await read('admin.crt'), adminKey: await read('admin.key') };
}

/** A key and certificate for IP:127.0.0.1 signed by the cluster CA, valid one day, in a 0700 temp dir. */
export async function signServingCert(
  pkiDir = path.join(clusterDir, 'pki'),
): Promise<{ cert: Buffer; key: Buffer; dir: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fault-proxy-pki-'));
  const f = (n: string) => path.join(dir, n);
  await fs.writeFile(
    f('ext.cnf'),
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n',
  );
  await execa('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    f('proxy.key'),
    '-out',
    f('proxy.csr'),
    '-subj',
    '/CN=nsm-upgrade-fault-proxy',
  ]);
  // -set_serial instead of -CAcreateserial: never write a serial file next to the shared CA.
  await execa('openssl', [
    'x509',
    '-req',
    '-in',
    f('proxy.csr'),
    '-CA',
    path.join(pkiDir, 'ca.crt'),
    '-CAkey',
    path.join(pkiDir, 'ca.key'),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '1',
    '-sha256',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('proxy.crt'),
  ]);
  return { cert: await fs.readFile(f('proxy.crt')), key: await fs.readFile(f('proxy.key')), dir };
}

/**
 * A kubeconfig (0600, in `dir`) pointing at `server` with the cluster CA and either the admin
 * client certificate or a bearer token.
 */
export async function writeKubeconfig(
  dir: string,
  server: string,
  up: Upstream,
  auth: { token: string } | 'admin',
): Promise<string> {
  const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
  const user =
    auth === 'admin'
      ? { 'client-certificate-data': b64(up.adminCert), 'client-key-data': b64(up.adminKey) }
      : { token: auth.token };
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'fault-proxy',
    preferences: {},
    clusters: [{ name: 'fault-proxy', cluster: { server, 'certificate-authority-data': b64(up.ca) } }],
    users: [{ name: 'fault-proxy-user', user }],
    contexts: [{ name: 'fault-proxy', context: { cluster: 'fault-proxy', user: 'fault-proxy-user' } }],
  };
  const file = path.join(dir, auth === 'admin' ? 'kubeconfig' : 'kubeconfig-token');
  await fs.writeFile(file, dump(doc), { mode: 0o600 });
  return file;
}
