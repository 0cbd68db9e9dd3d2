/**
 * The API server as nginx-meshctl's dry runs see it: a proxy on 127.0.0.1 that passes every read
 * through with the tool's own credentials and turns every write into a server-side dry run
 * (`dryRun=All`: validated and admitted, never stored). A binary's hidden --dry-run does not stop all
 * of its writes: 2.0.0's `upgrade --dry-run` creates and updates the mesh CRDs before it looks at the
 * flag (commands/upgrade.go, upgradeCRDs), and `deploy --dry-run`'s image-pull watcher may run its
 * cleanup. Through the proxy, neither changes anything, so preflight can run every command's own dry run.
 *
 * - Only for the child it is made for: it listens on loopback, and each request's path must start with
 *   the random prefix of the child's kubeconfig server URL (0600, in a private temporary directory,
 *   removed after). Not a bearer token: client-go sends none to a plain-http server.
 * - What cannot be a dry run is refused (403): exec, attach, port-forward and a service or pod proxy
 *   with a write method, and watches (a dry run has nothing to wait for).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import type { Deps } from '../deps.ts';

const writes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Pure: the path to send upstream, or why the request is refused. */
export function dryRunTarget(method: string, url: string): { path: string } | { refused: string } {
  const u = new URL(url, 'http://proxy.invalid');
  if (/\/(exec|attach|portforward)$/.test(u.pathname))
    return { refused: `${u.pathname}: a dry run cannot run anything in a pod` };
  if (u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1')
    return { refused: 'watches are not served to a dry run' };
  if (writes.has(method)) {
    if (/\/proxy(\/|$)/.test(u.pathname))
      return { refused: `${method} ${u.pathname}: a write through a proxy cannot be a dry run` };
    u.searchParams.set('dryRun', 'All');
  }
  return { path: `${u.pathname}${u.search}` };
}

const status = (code: number, message: string) =>
  JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message,
    reason: code === 401 ? 'Unauthorized' : 'Forbidden',
    code,
  });

/** Serves the proxy while `fn` runs with the path of a kubeconfig that points at it. */
export async function withDryRunProxy<T>(
  deps: Pick<Deps, 'kube' | 'fs'>,
  namespace: string,
  fn: (kubeconfig: string) => Promise<T>,
): Promise<T> {
  const token = crypto.randomBytes(24).toString('base64url');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (code: number, body: string | Buffer, type = 'application/json') => {
        res.writeHead(code, { 'Content-Type': type });
        res.end(body);
      };
      if (!req.url?.startsWith(`/${token}/`)) return answer(401, status(401, "not the dry run's address"));
      const target = dryRunTarget(req.method ?? 'GET', req.url.slice(token.length + 1));
      if ('refused' in target) return answer(403, status(403, `refused by the dry-run proxy: ${target.refused}`));
      if (!deps.kube.forward) return answer(502, status(502, 'this API client cannot forward requests'));
      const headers: Record<string, string> = {};
      for (const h of ['accept', 'content-type', 'user-agent'])
        if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
      deps.kube.forward({ method: req.method ?? 'GET', path: target.path, headers, body: Buffer.concat(chunks) }).then(
        (up) => answer(up.status, up.body, String(up.headers['content-type'] ?? 'application/json')),
        (err: Error) => answer(502, status(502, `the API server did not answer: ${err.message}`)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  const dir = await deps.fs.mkdtemp(path.join(os.tmpdir(), 'nsm-upgrade-dry-run-'));
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await deps.fs.writeFile(
      kubeconfig,
      dump({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'dry-run',
        clusters: [{ name: 'dry-run', cluster: { server: `http://127.0.0.1:${port}/${token}` } }],
        users: [{ name: 'dry-run', user: {} }],
        contexts: [{ name: 'dry-run', context: { cluster: 'dry-run', user: 'dry-run', namespace } }],
      }),
      { mode: 0o600 },
    );
    return await fn(kubeconfig);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await deps.fs.rm(dir, { recursive: true, force: true });
  }
}
