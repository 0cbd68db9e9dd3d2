/**
 * Which credentials reach which image, as the cluster would use them:
 * - the install's own: the registry credentials a hop carries (a deploy's --registry-username and
 *   --registry-password or --registry-key, a values file's registry.*, else the release's values), for
 *   the images under its registry.server; else the registry key Secret of the mesh namespace
 *   (nginx-mesh-registry-key, a dockerconfigjson the charts make from those values);
 * - for a registry the install has none for: the operator's docker config (~/.docker/config.json,
 *   $DOCKER_CONFIG): `auths` entries and credential helpers (`credHelpers`, `credsStore`, run as
 *   `docker-credential-<name> get`).
 * A dockerconfigjson key may hold a path ("host:port/nsm"): as the kubelet does, it applies to the
 * images under that path, the longest match first. Every password is a Secret from the moment it is read.
 */
import type { Deps } from '../deps.ts';
import { Secret, isSecret } from '../secret.ts';
import { valueAt } from '../values.ts';
import type { Hop, Install } from '../engine/types.ts';
import type { RegistryCredential } from './registry-client.ts';
import type { ImageRef } from './reference.ts';

export interface CredentialEntry {
  key: string;
  cred: RegistryCredential;
}

/** Pure: a docker config key as host[/path], without scheme and Docker Hub's old `/v1/` suffix. */
export function normalizeKey(key: string): string {
  const k = key
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .replace(/\/v1$/, '')
    .replace(/\/v2$/, '');
  return k === 'index.docker.io' || k === 'registry-1.docker.io' ? 'docker.io' : k;
}

/** Pure: the entry that applies to an image: same host, its path a prefix of the image's repository, longest first. */
export function credentialFor(entries: readonly CredentialEntry[], ref: ImageRef): RegistryCredential | undefined {
  const full = `${ref.host}/${ref.repository}`;
  return entries
    .filter((e) => {
      const k = normalizeKey(e.key);
      return k === ref.host || full.startsWith(`${k}/`);
    })
    .sort((a, b) => normalizeKey(b.key).length - normalizeKey(a.key).length)[0]?.cred;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Pure: the `auths` of a docker config (the chart's registry key Secret, or the user's file). */
export function dockerConfigEntries(config: DockerConfig, from: string): CredentialEntry[] {
  const out: CredentialEntry[] = [];
  for (const [key, a] of Object.entries(config.auths ?? {})) {
    let username = a.username;
    let password = a.password;
    if (a.auth) {
      const text = Buffer.from(a.auth, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon > 0) {
        username = text.slice(0, colon);
        password = text.slice(colon + 1);
      }
    }
    // An identity token is a refresh token for the Bearer realm, sent as the password with user <token>.
    if (a.identitytoken) {
      username = '<token>';
      password = a.identitytoken;
    }
    if (username && password)
      out.push({ key, cred: { username, password: new Secret(password, `${from} password`), from } });
  }
  return out;
}

/** Pure: the install's registry credentials a hop carries, for its registry server. */
export function hopCredential(hop: Hop, install: Install): CredentialEntry | undefined {
  const deploy = hop.steps.find((s) => s.kind === 'deploy');
  let server: unknown;
  let username: unknown;
  let password: unknown;
  let key: unknown;
  let from: string;
  if (deploy && deploy.kind === 'deploy' && hop.method === 'meshctl') {
    const args = deploy.commands[0]?.args ?? [];
    const flag = (f: string) => {
      const i = args.indexOf(f);
      return i >= 0 ? args[i + 1] : undefined;
    };
    server = flag('--registry-server') ?? 'docker-registry.nginx.com/nsm';
    username = flag('--registry-username');
    password = flag('--registry-password');
    const keyFile = flag('--registry-key');
    key = deploy.params.files.find((f) => f.path === String(keyFile) && 'secret' in f.content)?.content;
    key = key && typeof key === 'object' && 'secret' in key ? key.secret : undefined;
    from = `the ${deploy.id} command`;
  } else {
    const file =
      deploy && deploy.kind === 'deploy' ? deploy.params.files.find((f) => 'values' in f.content)?.content : undefined;
    const values = file && 'values' in file ? file.values : install.values;
    server = valueAt(values, 'registry.server') ?? 'docker-registry.nginx.com/nsm';
    username = valueAt(values, 'registry.username');
    password = valueAt(values, 'registry.password');
    key = valueAt(values, 'registry.key');
    from = file ? `the values of ${deploy!.id}` : 'the release values (registry.*)';
  }
  const asSecret = (v: unknown, label: string) =>
    isSecret(v) ? v : typeof v === 'string' && v ? new Secret(v, label) : undefined;
  const pw = asSecret(password, 'registry.password');
  if (typeof username === 'string' && username && pw)
    return { key: String(server), cred: { username, password: pw, from } };
  const k = asSecret(key, 'registry.key');
  return k ? { key: String(server), cred: { username: '_json_key', password: k, from } } : undefined;
}

/** The mesh namespace's registry key Secret, as credential entries (none when it is absent or unreadable). */
export async function meshRegistryKey(deps: Pick<Deps, 'kube'>, namespace: string): Promise<CredentialEntry[]> {
  try {
    const s = await deps.kube.request<{ data?: Record<string, string> }>({
      path: `/api/v1/namespaces/${namespace}/secrets/nginx-mesh-registry-key`,
      noRetry: true,
    });
    const text = s.data?.['.dockerconfigjson'];
    return text
      ? dockerConfigEntries(
          JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as DockerConfig,
          `Secret ${namespace}/nginx-mesh-registry-key`,
        )
      : [];
  } catch {
    return [];
  }
}

/** The operator's docker config: its `auths`, and a credential helper's answer for each host asked. */
export async function operatorDockerConfig(
  deps: Pick<Deps, 'fs' | 'exec'>,
  file: string | undefined,
  hosts: readonly string[],
): Promise<CredentialEntry[]> {
  if (!file) return [];
  let config: DockerConfig;
  try {
    config = JSON.parse(await deps.fs.readFile(file, 'utf8')) as DockerConfig;
  } catch {
    return [];
  }
  const out = dockerConfigEntries(config, file);
  for (const host of hosts) {
    const helper = config.credHelpers?.[host] ?? config.credsStore;
    if (!helper || out.some((e) => normalizeKey(e.key) === host)) continue;
    const res = await deps.exec
      .run({ bin: `docker-credential-${helper}`, args: ['get'], input: host, writes: false, timeoutMs: 20_000 })
      .catch(() => undefined);
    if (!res || res.exitCode !== 0) continue;
    try {
      const got = JSON.parse(res.stdout) as { Username?: string; Secret?: string };
      if (got.Username && got.Secret)
        out.push({
          key: host,
          cred: {
            username: got.Username,
            password: new Secret(got.Secret, `${helper} credential`),
            from: `docker-credential-${helper}`,
          },
        });
    } catch {
      /* not JSON: no credential */
    }
  }
  return out;
}
