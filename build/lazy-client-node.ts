/**
 * The tool uses one class of @kubernetes/client-node: KubeConfig (src/kube/kubeconfig.ts imports its
 * module, dist/config.js, not the package's index with its API clients, watch, exec and websockets).
 * That module still imports, at its top, what only other paths of it use: the generated API
 * (`./gen/index.js`, for makeApiClient), undici (fetch dispatchers), socks, socks-proxy-agent and
 * hpagent (agents for a kubeconfig's proxy-url). In the bundle, config.js gets each of them lazily:
 * the same exports, which load the real module the first time one is called or constructed. So
 * every kubeconfig still works as with client-node's own KubeConfig, and a command that only reads
 * (status) no longer evaluates the 1.8 MB generated API nor undici at start-up (issue 28). The real
 * modules stay in the bundle, each wrapped to be evaluated on first use.
 */
import type { EsbuildPlugin } from './esbuild-api.ts';

const namespace = 'nsm-lazy-client-node';

/**
 * Per module config.js imports: its named imports, each a class (constructed) or a function or an
 * object of static functions, and the module that really holds it (relative to config.js; default
 * the imported one). The generated API's two are taken from their own files: requiring its index
 * would bundle all 800 models, which the ESM import let esbuild leave out.
 */
interface Lazy {
  kind: 'class' | 'function' | 'statics';
  name: string;
  from?: string;
  statics?: string[];
}
const lazy: Record<string, Lazy[]> = {
  './gen/index.js': [
    { kind: 'class', name: 'ServerConfiguration', from: './gen/servers.js' },
    { kind: 'function', name: 'createConfiguration', from: './gen/configuration.js' },
  ],
  undici: [
    { kind: 'class', name: 'Agent' },
    { kind: 'class', name: 'ProxyAgent' },
  ],
  'socks-proxy-agent': [{ kind: 'class', name: 'SocksProxyAgent' }],
  socks: [{ kind: 'statics', name: 'SocksClient', statics: ['createConnection'] }],
  hpagent: [
    { kind: 'class', name: 'HttpProxyAgent' },
    { kind: 'class', name: 'HttpsProxyAgent' },
  ],
};

export const lazyModuleNames = Object.keys(lazy);

/** The module config.js gets: the same exports, each loading its real module (`paths`, by export name) when first used. */
function lazyModule(items: Lazy[], paths: Record<string, string>): string {
  const lines: string[] = [];
  items.forEach((it, i) => {
    const load = `load${i}`;
    lines.push(`let real${i};`, `const ${load} = () => (real${i} ??= require(${JSON.stringify(paths[it.name])}));`);
    if (it.kind === 'class')
      lines.push(`export class ${it.name} { constructor(...args) { return new (${load}().${it.name})(...args); } }`);
    if (it.kind === 'function')
      lines.push(`export function ${it.name}(...args) { return ${load}().${it.name}(...args); }`);
    if (it.kind === 'statics')
      lines.push(
        `export const ${it.name} = { ${(it.statics ?? []).map((f) => `${f}: (...args) => ${load}().${it.name}.${f}(...args)`).join(', ')} };`,
      );
  });
  return lines.join('\n') + '\n';
}

export function lazyClientNode(repoRoot: string): EsbuildPlugin {
  return {
    name: 'lazy-client-node',
    setup(build) {
      build.onResolve({ filter: /^(\.\/gen\/index\.js|undici|socks-proxy-agent|socks|hpagent)$/ }, async (args) => {
        if (!/[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/.test(args.importer)) return undefined;
        const dir = args.importer.replace(/[\\/][^\\/]+$/, '');
        const paths: Record<string, string> = {};
        for (const it of lazy[args.path]!) {
          const real = await build.resolve(it.from ?? args.path, { resolveDir: dir, kind: args.kind });
          if (!real.path) return real;
          paths[it.name] = real.path;
        }
        return { path: `${args.path}?${JSON.stringify(paths)}`, namespace };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => {
        const q = args.path.indexOf('?');
        return {
          loader: 'js',
          resolveDir: repoRoot,
          contents: lazyModule(
            lazy[args.path.slice(0, q)]!,
            JSON.parse(args.path.slice(q + 1)) as Record<string, string>,
          ),
        };
      });
    },
  };
}
