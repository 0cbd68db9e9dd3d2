import os from 'node:os';
import path from 'node:path';
// client-node's config module, not its index: the index loads every API client, watch, exec and
// websockets besides KubeConfig, which is all the tool uses (start-up time, issue 28).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { UsageError } from '../errors.ts';

export interface KubeconfigOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/**
 * Loads the kubeconfig the way kubectl does (--kubeconfig, else $KUBECONFIG, else ~/.kube/config,
 * else the in-cluster service account) and selects --context. Errors name the file, context or
 * cluster, never the file's contents.
 */
export function loadKubeConfig(opts: KubeconfigOptions): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = process.env.KUBECONFIG || undefined;
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const where = opts.kubeconfig ?? fromEnv ?? '~/.kube/config';
    throw new UsageError(
      `cannot load kubeconfig ${where}: ${whyUnloadable(err)}`,
      'Pass a readable kubeconfig with --kubeconfig FILE.',
    );
  }
  if (!opts.kubeconfig && !fromEnv && isNoConfigFallback(kc)) {
    throw new UsageError(
      `no kubeconfig found: pass --kubeconfig FILE or set KUBECONFIG (looked in $KUBECONFIG and ${path.join(os.homedir(), '.kube', 'config')})`,
    );
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none';
      throw new UsageError(
        `context "${opts.context}" is not in the kubeconfig (contexts: ${known})`,
        'Pick one with --context NAME.',
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new UsageError(
      'the kubeconfig has no current context with a cluster',
      'Pass --context NAME or set current-context.',
    );
  }
  if (!/^https?:$/.test(parseUrl(cluster.server)?.protocol ?? '')) {
    // The server is not printed: a URL may carry credentials.
    throw new UsageError(
      `the server of cluster "${cluster.name}" in the kubeconfig is not an https:// or http:// URL`,
      'Fix it with kubectl config set-cluster NAME --server=https://HOST:PORT.',
    );
  }
  return kc;
}

/**
 * The kubeconfig of exactly kc's current context, for the child commands (helm, nginx-meshctl): only
 * that context, its cluster and its user (paths made absolute by client-node, a token file read
 * inline), as JSON (a valid kubeconfig). Made from the kubeconfig as the tool loaded it at start,
 * never read again: a context switched or a file edited in another shell does not reach a child.
 * It may hold credentials: only ever written 0600 (upgrade/child-kubeconfig.ts), never printed.
 */
export function minifiedKubeconfig(kc: KubeConfig): string {
  const ctx = kc.getContextObject(kc.getCurrentContext())!;
  const min = new KubeConfig();
  min.loadFromOptions({
    clusters: kc.getClusters().filter((c) => c.name === ctx.cluster),
    users: kc.getUsers().filter((u) => u.name === ctx.user),
    contexts: [ctx],
    currentContext: ctx.name,
  });
  return min.exportConfig();
}

/**
 * With nothing to load, client-node's loadFromDefault invents a cluster at http://localhost:8080
 * (context "loaded-context"); kubectl instead says there is no configuration. Exported for tests.
 */
export function isNoConfigFallback(kc: KubeConfig): boolean {
  const clusters = kc.getClusters();
  return (
    kc.getCurrentContext() === 'loaded-context' &&
    clusters.length === 1 &&
    clusters[0]?.name === 'cluster' &&
    clusters[0].server === 'http://localhost:8080'
  );
}

/**
 * A copy of kc whose current cluster is marked insecure-skip-tls-verify, for a plain http:// server:
 * client-node refuses to build its (unused) agent for http otherwise, though kubectl allows such
 * servers and there is no TLS to verify. Credentials and exec plugins work as in kc.
 */
export function forPlainHttp(kc: KubeConfig): KubeConfig {
  const current = kc.getCurrentCluster()?.name;
  const view = new KubeConfig();
  view.loadFromOptions({
    clusters: kc.getClusters().map((c) => (c.name === current ? { ...c, skipTLSVerify: true } : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return view;
}

const fileErrors: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

/** Why a kubeconfig did not load, without quoting it (YAML errors carry a snippet of the file). */
function whyUnloadable(err: unknown): string {
  const e = err as (NodeJS.ErrnoException & { name?: string; mark?: { line?: number } }) | undefined;
  if (e?.code) return fileErrors[e.code] ? `${fileErrors[e.code]} (${e.code})` : e.code;
  if (e?.name === 'YAMLException' && typeof e.mark?.line === 'number')
    return `not valid YAML (line ${e.mark.line + 1})`;
  if (e?.name === 'YAMLException' && /input is empty/.test(e.message)) return 'the file is empty';
  // client-node's own checks, e.g. "clusters[0].cluster.server is missing": field paths, no values.
  if (/^(clusters|users|contexts)\[\d+\][\w.]* is missing$/.test(e?.message ?? '')) return e!.message;
  return 'unreadable or not valid YAML';
}

function parseUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}
