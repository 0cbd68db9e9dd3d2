/**
 * yargs renders its whole help on every run (cacheHelpMessage), not only for --help, and measures
 * each word with string-width. In the bundle, yargs and cliui (its layout) get this instead:
 * printable ASCII (U+0020-U+007E, no escape codes) is as wide as it is long, string-width 8's own
 * fast path; any other text goes to string-width 8 itself, loaded at that first use. Without it,
 * every start-up paid ~15 ms for the Intl.Segmenter string-width builds when it is imported, and
 * cliui's pinned string-width 7 (a second copy) walked every character of the help with a
 * segmenter and a new emoji RegExp: ~40 ms more (issue 18). Widths, and so the help text, are the
 * same as string-width 8's.
 */
import type { EsbuildPlugin } from './esbuild-api.ts';

const namespace = 'nsm-lazy-string-width';

export function lazyStringWidth(repoRoot: string): EsbuildPlugin {
  return {
    name: 'lazy-string-width',
    setup(build) {
      build.onResolve({ filter: /^string-width$/ }, async (args) => {
        if (!/[\\/]node_modules[\\/](yargs|cliui)[\\/]/.test(args.importer)) return undefined;
        const real = await build.resolve('string-width', { resolveDir: repoRoot, kind: args.kind });
        return real.path ? { path: real.path, namespace } : real;
      });
      // esbuild bundles the require() below as a module evaluated when first called.
      build.onLoad({ filter: /.*/, namespace }, (args) => ({
        loader: 'js',
        resolveDir: repoRoot,
        contents: `let full;
export default function stringWidth(string, options) {
  if (typeof string === 'string' && /^[\\u0020-\\u007E]*$/.test(string)) return string.length;
  full ??= require(${JSON.stringify(args.path)}).default;
  return full(string, options);
}
`,
      }));
    },
  };
}
