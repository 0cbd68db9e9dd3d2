import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

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
