/**
 * The credential scanner the security test relies on (test/support/secret-scan.ts): it must find a
 * token, a client certificate and a client key in any form the tool could print them, and must not
 * cry wolf on the PEM header every certificate shares or on a kubeconfig path.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { findLeaks, kubeconfigSecrets, pemNeedles, tokenNeedles } from '../../support/secret-scan.ts';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyB64 = Buffer.from(keyPem).toString('base64');
const jwt = `eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0.${'S'.repeat(40)}sig`;
const kubeconfig = dump({
  apiVersion: 'v1',
  kind: 'Config',
  users: [
    {
      name: 'admin',
      user: { 'client-key-data': keyB64, 'client-certificate-data': keyB64.split('').reverse().join('') },
    },
    { name: 'sa', user: { token: jwt } },
  ],
});
const secrets = kubeconfigSecrets(kubeconfig);

describe('secret scan', () => {
  it('reads token, certificate and key from a kubeconfig', () => {
    expect(secrets.map((s) => s.label).sort()).toEqual([
      'bearer token of user sa',
      'client-certificate-data of user admin',
      'client-key-data of user admin',
    ]);
  });

  it('finds the token whole and by its signature alone', () => {
    expect(tokenNeedles(jwt)).toHaveLength(2);
    expect(findLeaks('out', `Authorization: Bearer ${jwt}`, secrets)).toEqual(['out: bearer token of user sa']);
    expect(findLeaks('out', `sig=${jwt.split('.')[2]}`, secrets)).toEqual(['out: bearer token of user sa']);
  });

  it('finds the key as base64 data, as a decoded PEM line, and any PEM private key header', () => {
    expect(findLeaks('f', `x ${keyB64} y`, secrets)).toContain('f: client-key-data of user admin');
    const line = keyPem.split('\n')[5]!;
    expect(pemNeedles(keyB64)).toContain(line);
    expect(findLeaks('f', `..${line}..`, secrets)).toEqual(['f: client-key-data of user admin']);
    expect(findLeaks('f', '-----BEGIN RSA PRIVATE KEY-----', [])).toEqual(['f: a PEM private key']);
  });

  it('flags kubeconfig user fields dumped as YAML', () => {
    expect(findLeaks('f', 'client-key-data: REDACTED', [])).toEqual(['f: kubeconfig user fields']);
  });

  it('stays quiet on a shared PEM header, a kubeconfig path and ordinary output', () => {
    const header = Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64');
    const text = `backup written to /tmp/x (kubeconfig /root/.kube/config) ${header}\nHTTPRouteGroup 40`;
    expect(findLeaks('out', text, secrets)).toEqual([]);
  });
});
