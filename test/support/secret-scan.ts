/**
 * Finds credentials in text the tool wrote (stdout, stderr, backup and report files): the bearer
 * token, the kubeconfig's client certificate and key (as base64 data and as decoded PEM lines),
 * and any PEM private key at all. Pure: the security test gathers the texts and the secrets.
 */
import { load } from 'js-yaml';

export interface Secret {
  /** What it is, for the failure message (never the value itself). */
  label: string;
  /** Distinctive fragments: finding any one of them is a leak. */
  needles: string[];
}

/** The distinctive parts of a base64-encoded PEM: chunks of the base64 and the decoded body lines. */
export function pemNeedles(b64: string): string[] {
  // The first ~40 base64 chars encode "-----BEGIN ...": shared by every PEM, not distinctive.
  const needles = [b64.slice(60, 120), b64.slice(-120, -60)].filter((s) => s.length >= 40);
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  const body = pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
  return [...needles, ...body.slice(1, -1)];
}

/** A JWT (ServiceAccount token): the whole token and its signature part. */
export function tokenNeedles(token: string): string[] {
  const parts = token.split('.');
  return [token, ...(parts.length === 3 && parts[2]!.length >= 20 ? [parts[2]!] : [])];
}

interface KubeconfigUsers {
  users?: { name: string; user: Record<string, string> }[];
}

/** The credentials in a kubeconfig's users: token, client-certificate-data, client-key-data. */
export function kubeconfigSecrets(kubeconfigText: string): Secret[] {
  const kc = load(kubeconfigText) as KubeconfigUsers;
  const out: Secret[] = [];
  for (const u of kc.users ?? []) {
    if (u.user.token) out.push({ label: `bearer token of user ${u.name}`, needles: tokenNeedles(u.user.token) });
    if (u.user['client-certificate-data'])
      out.push({
        label: `client-certificate-data of user ${u.name}`,
        needles: pemNeedles(u.user['client-certificate-data']),
      });
    if (u.user['client-key-data'])
      out.push({ label: `client-key-data of user ${u.name}`, needles: pemNeedles(u.user['client-key-data']) });
  }
  return out;
}

const privateKeyHeader = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Every leak in `text` (named `where`), as "where: label" lines; empty when clean. */
export function findLeaks(where: string, text: string, secrets: readonly Secret[]): string[] {
  const found: string[] = [];
  for (const s of secrets)
    if (s.needles.some((n) => n.length > 0 && text.includes(n))) found.push(`${where}: ${s.label}`);
  if (privateKeyHeader.test(text)) found.push(`${where}: a PEM private key`);
  if (/\b(client-key-data|client-certificate-data)\s*:/.test(text)) found.push(`${where}: kubeconfig user fields`);
  return found;
}
