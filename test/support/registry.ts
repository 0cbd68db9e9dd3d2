/**
 * The test bed's OCI registry (test/cluster/registry.ts) as tests reach it: its coordinates from
 * .cluster/env, raw distribution-API requests over TLS with the cluster CA (an oracle independent of the
 * OCI client that published the images), and the registry's own tool for changes:
 *   registryTool(reg, ['delete', 'nginx-mesh-sidecar:2.0.0'])          a tag (or name@sha256:... a manifest)
 *   registryTool(reg, ['push', 'nginx-mesh-sidecar:2.0.0'])            puts the published image back
 *   registryTool(reg, ['push', REF, '--platforms', 'linux/arm64'])     an image without the nodes' platform
 *   registryTool(reg, ['tags', 'nginx-mesh-sidecar']), registryTool(reg, ['inspect', REF])
 */
import fs from 'node:fs';
import https from 'node:https';
import { execa } from 'execa';
import { clusterEnv, type ToolResult } from './cluster.ts';

export interface TestRegistry {
  /** host:port/path, the mirror every chart image is under (NSM_REGISTRY). */
  mirror: string;
  host: string;
  username: string;
  password: string;
  ca: Buffer;
  tool: string;
  /** The images of every reference chart version ({ versions: { '2.0.0': [refs] } }). */
  images: { mirror: string; charts: string; versions: Record<string, string[]> };
  env: Record<string, string>;
  /** Keeps TLS connections open between requests (a handshake each would dominate the tests' time). */
  agent: https.Agent;
}

/** The registry of the running test bed, or undefined when .cluster/env has none (a cluster started before it). */
export function testRegistry(): TestRegistry | undefined {
  const env = clusterEnv();
  if (!env.NSM_REGISTRY || !env.NSM_REGISTRY_CA || !env.NSM_REGISTRY_TOOL || !env.NSM_REGISTRY_IMAGES) return undefined;
  const images = fs.existsSync(env.NSM_REGISTRY_IMAGES)
    ? (JSON.parse(fs.readFileSync(env.NSM_REGISTRY_IMAGES, 'utf8')) as TestRegistry['images'])
    : { mirror: env.NSM_REGISTRY, charts: '', versions: {} };
  return {
    mirror: env.NSM_REGISTRY,
    host: env.NSM_REGISTRY.split('/')[0]!,
    username: env.NSM_REGISTRY_USERNAME ?? '',
    password: env.NSM_REGISTRY_PASSWORD ?? '',
    ca: fs.readFileSync(env.NSM_REGISTRY_CA),
    tool: env.NSM_REGISTRY_TOOL,
    images,
    env,
    agent: new https.Agent({ keepAlive: true, maxSockets: 4, ca: fs.readFileSync(env.NSM_REGISTRY_CA) }),
  };
}

/** "127.0.0.1:5000/nsm/kubectl" -> { repo: "nsm/kubectl", tag: "latest" }. */
export function splitRef(reg: TestRegistry, ref: string): { repo: string; tag: string } {
  if (!ref.startsWith(`${reg.host}/`)) throw new Error(`${ref} is not in ${reg.host}`);
  const rest = ref.slice(reg.host.length + 1);
  const colon = rest.lastIndexOf(':');
  return colon > rest.lastIndexOf('/')
    ? { repo: rest.slice(0, colon), tag: rest.slice(colon + 1) }
    : { repo: rest, tag: 'latest' };
}

export const indexType = 'application/vnd.oci.image.index.v1+json';
export const manifestType = 'application/vnd.oci.image.manifest.v1+json';
const accept = [
  indexType,
  manifestType,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request to the registry's /v2/ API; credentials: the test bed's, others, or none. */
export function registryRequest(
  reg: TestRegistry,
  method: string,
  apiPath: string,
  opts: { credentials?: { username: string; password: string } | 'none' } = {},
): Promise<RegistryResponse> {
  const cred =
    opts.credentials === 'none' ? undefined : (opts.credentials ?? { username: reg.username, password: reg.password });
  const headers: Record<string, string> = { Accept: accept };
  if (cred) headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `https://${reg.host}${apiPath}`,
      { method, headers, agent: reg.agent, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timeout`)));
    req.end();
  });
}

/** Runs the registry's tool (nsm-test-registry) with the registry's client environment. */
export async function registryTool(reg: TestRegistry, args: string[]): Promise<ToolResult> {
  const r = await execa(reg.tool, args, { reject: false, env: reg.env, extendEnv: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
