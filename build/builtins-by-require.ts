/**
 * The ESM bundle loads Node's built-in modules with require(), as the CommonJS one does. An ESM
 * import of a built-in evaluates every export of it to build the module namespace, lazy ones
 * included: `import http from 'node:http'` (the kube client's, and src/kube/client.ts's) loads
 * Node's internal undici for http.WebSocket and friends, ~25 ms of every command that talks to the
 * API server (issue 18). require() returns the exports object and leaves those getters alone.
 */
import { builtinModules } from 'node:module';
import type { EsbuildPlugin } from './esbuild-api.ts';

const namespace = 'nsm-builtin-require';
const builtins = new Set(builtinModules);

export const builtinsByRequire: EsbuildPlugin = {
  name: 'builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z_]/ }, async (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!builtins.has(name)) return undefined;
      // The require() in the module below is Node's, at run time.
      return args.namespace === namespace ? { path: args.path, external: true } : { path: `node:${name}`, namespace };
    });
    // The require is the bundle banner's (createRequire), external to esbuild: a CommonJS module
    // whose exports are the built-in's.
    build.onLoad({ filter: /.*/, namespace }, (args) => ({
      loader: 'js',
      contents: `module.exports = require(${JSON.stringify(args.path)});\n`,
    }));
  },
};
