/**
 * A small client of the OCI distribution API, for one question per image: does the registry hold a
 * manifest for this tag or digest, readable with these credentials, for these platforms?
 *
 * - `HEAD /v2/<repo>/manifests/<ref>` with the Accept types of OCI and Docker indexes and manifests;
 * - auth as a container runtime does it: on 401, the `WWW-Authenticate` challenge says Basic (send
 *   the credentials) or Bearer (ask the realm for a pull token for `repository:<repo>:pull`, with the
 *   credentials as Basic when there are any, then send the token). A host's scheme and a repository's
 *   token are remembered, so the next image costs one request, not three;
 * - the platform list: an index's `manifests[].platform`, or a single manifest's config blob
 *   (`os`/`architecture`), read with GET only when HEAD found the image.
 * TLS is always verified: the trusted CAs are Node's (with NODE_EXTRA_CA_CERTS) plus the files given
 * (`--registry-ca`). Credentials go only over TLS, never in a URL, and are never logged.
 * No library fits: the npm clients of this API GET every manifest (a pull on rate-limited registries)
 * and carry their own rules on where a token realm may be; see docs/image-check.md.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { Secret } from '../secret.ts';
import { apiHost, type ImageRef } from './reference.ts';

export interface RegistryCredential {
  username: string;
  password: Secret;
  from: string;
}

export type ManifestVerdict =
  | { status: 'found'; digest: string | undefined; mediaType: string; platforms: string[] | undefined }
  | { status: 'missing'; detail: string }
  | { status: 'denied'; detail: string }
  | { status: 'unreachable'; detail: string };

export interface RegistryClient {
  manifest(ref: ImageRef, cred: RegistryCredential | undefined): Promise<ManifestVerdict>;
  /** Requests sent so far. */
  readonly requests: number;
  close(): void;
}

const indexTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
const manifestTypes = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const accept = [...indexTypes, ...manifestTypes].join(', ');

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Pure: the parameters of a `WWW-Authenticate` challenge (`Bearer realm="...",service="..."`). */
export function parseChallenge(
  header: string | undefined,
): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g))
    params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: m[1]!.toLowerCase(), params };
}

/** Pure: the platforms of an index or manifest list (attestation entries, `unknown/unknown`, left out). */
export function indexPlatforms(body: Buffer): string[] {
  const doc = JSON.parse(body.toString('utf8')) as {
    manifests?: { platform?: { os?: string; architecture?: string } }[];
  };
  return [
    ...new Set(
      (doc.manifests ?? [])
        .map((m) => `${m.platform?.os ?? 'unknown'}/${m.platform?.architecture ?? 'unknown'}`)
        .filter((p) => p !== 'unknown/unknown'),
    ),
  ];
}

const basic = (c: RegistryCredential) =>
  `Basic ${Buffer.from(`${c.username}:${c.password.reveal()}`).toString('base64')}`;

export function createRegistryClient(
  opts: { ca?: readonly (string | Buffer)[]; timeoutMs?: number } = {},
): RegistryClient {
  const ca = [...tls.getCACertificates('default'), ...(opts.ca ?? []).map(String)];
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let requests = 0;
  const schemes = new Map<string, 'basic' | 'bearer'>();
  const tokens = new Map<string, string>();
  /** The first request to a host learns its auth scheme; the others wait for it, then send credentials at once. */
  const learning = new Map<string, Promise<unknown>>();

  function send(method: string, url: string, headers: Record<string, string>, redirects = 3): Promise<Response> {
    requests++;
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const location = res.headers.location;
          // A blob may live elsewhere (object storage): follow, without the registry's credentials.
          if (
            method === 'GET' &&
            location &&
            [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) &&
            redirects > 0
          ) {
            const next = new URL(location, url);
            if (next.protocol !== 'https:') {
              reject(new Error(`the registry redirected to ${next.protocol} (not TLS)`));
              return;
            }
            send(
              method,
              next.href,
              next.host === new URL(url).host ? headers : { Accept: headers.Accept ?? '*/*' },
              redirects - 1,
            ).then(resolve, reject);
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs / 1000}s`)));
      req.on('error', reject);
      req.end();
    });
  }

  async function bearer(
    host: string,
    repo: string,
    challenge: Record<string, string>,
    cred: RegistryCredential | undefined,
  ): Promise<string | undefined> {
    const key = `${host}\0${repo}\0${cred?.username ?? ''}`;
    const known = tokens.get(key);
    if (known) return known;
    if (!challenge.realm) return undefined;
    const realm = new URL(challenge.realm);
    if (realm.protocol !== 'https:')
      throw new Error(
        `the registry asks for a token from ${realm.origin}, which is not TLS: credentials are not sent there`,
      );
    if (challenge.service) realm.searchParams.set('service', challenge.service);
    realm.searchParams.set('scope', `repository:${repo}:pull`);
    const res = await send('GET', realm.href, cred ? { Authorization: basic(cred) } : {});
    if (res.status === 401 || res.status === 403) return undefined;
    if (res.status !== 200) throw new Error(`the token service ${realm.origin} answered ${res.status}`);
    const body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token) tokens.set(key, token);
    return token;
  }

  /** A request with the registry's auth flow; `authHeader` is undefined when it has none for us. */
  async function authorized(
    method: string,
    host: string,
    repo: string,
    path: string,
    cred: RegistryCredential | undefined,
  ): Promise<Response> {
    const url = `https://${host}${path}`;
    const headersFor = (): Record<string, string> | undefined => {
      const scheme = schemes.get(host);
      if (scheme === 'basic') return cred ? { Accept: accept, Authorization: basic(cred) } : undefined;
      if (scheme === 'bearer') {
        const t = tokens.get(`${host}\0${repo}\0${cred?.username ?? ''}`);
        return t ? { Accept: accept, Authorization: `Bearer ${t}` } : undefined;
      }
      return undefined;
    };
    const pending = schemes.has(host) ? undefined : learning.get(host);
    if (pending) await pending.catch(() => undefined);
    // No await between the look-up above and here: the first request of a host is the one the others wait for.
    const sent = send(method, url, headersFor() ?? { Accept: accept });
    if (!schemes.has(host) && !learning.has(host)) learning.set(host, sent);
    const first = await sent;
    if (first.status !== 401) return first;
    const challenge = parseChallenge(String(first.headers['www-authenticate'] ?? ''));
    if (challenge?.scheme === 'basic') {
      schemes.set(host, 'basic');
      return cred ? send(method, url, { Accept: accept, Authorization: basic(cred) }) : first;
    }
    if (challenge?.scheme === 'bearer') {
      schemes.set(host, 'bearer');
      tokens.delete(`${host}\0${repo}\0${cred?.username ?? ''}`);
      const token = await bearer(host, repo, challenge.params, cred);
      return token ? send(method, url, { Accept: accept, Authorization: `Bearer ${token}` }) : first;
    }
    return first;
  }

  async function platformsOf(
    host: string,
    ref: ImageRef,
    digest: string,
    mediaType: string,
    cred: RegistryCredential | undefined,
  ): Promise<string[] | undefined> {
    const got = await authorized('GET', host, ref.repository, `/v2/${ref.repository}/manifests/${digest}`, cred);
    if (got.status !== 200) return undefined;
    if (indexTypes.includes(mediaType)) return indexPlatforms(got.body);
    const config = (JSON.parse(got.body.toString('utf8')) as { config?: { digest?: string } }).config?.digest;
    if (!config) return undefined;
    const blob = await authorized('GET', host, ref.repository, `/v2/${ref.repository}/blobs/${config}`, cred);
    if (blob.status !== 200) return undefined;
    const c = JSON.parse(blob.body.toString('utf8')) as { os?: string; architecture?: string };
    return c.os && c.architecture ? [`${c.os}/${c.architecture}`] : undefined;
  }

  return {
    get requests() {
      return requests;
    },
    close: () => agent.destroy(),
    async manifest(ref, cred) {
      const host = apiHost(ref.host);
      try {
        const head = await authorized(
          'HEAD',
          host,
          ref.repository,
          `/v2/${ref.repository}/manifests/${ref.reference}`,
          cred,
        );
        if (head.status === 401 || head.status === 403) {
          return {
            status: 'denied',
            detail: cred
              ? `the registry refused the credentials of ${cred.from} (user ${cred.username}): HTTP ${head.status}`
              : `the registry needs credentials (HTTP ${head.status}) and there are none for it`,
          };
        }
        if (head.status === 404)
          return { status: 'missing', detail: `no manifest ${ref.reference} in ${host}/${ref.repository} (HTTP 404)` };
        if (head.status !== 200) return { status: 'unreachable', detail: `the registry answered HTTP ${head.status}` };
        const mediaType = String(head.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim();
        const digest =
          typeof head.headers['docker-content-digest'] === 'string' ? head.headers['docker-content-digest'] : undefined;
        const known = [...indexTypes, ...manifestTypes].includes(mediaType);
        const platforms = known ? await platformsOf(host, ref, digest ?? ref.reference, mediaType, cred) : undefined;
        return { status: 'found', digest, mediaType, platforms };
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return { status: 'unreachable', detail: `${e.code ? `${e.code}: ` : ''}${e.message}` };
      }
    },
  };
}
