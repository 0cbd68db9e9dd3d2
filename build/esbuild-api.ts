/** The part of esbuild's plugin API the build uses (esbuild 0.28): typechecking does not need esbuild installed. */
export interface ResolveResult {
  path?: string;
  namespace?: string;
  external?: boolean;
  errors?: { text: string }[];
}
export interface LoadResult {
  contents: string;
  loader: 'ts' | 'js';
  resolveDir?: string;
}
export interface PluginBuild {
  onLoad(opts: { filter: RegExp; namespace?: string }, cb: (args: { path: string }) => LoadResult): void;
  onResolve(
    opts: { filter: RegExp },
    cb: (args: {
      path: string;
      importer: string;
      namespace: string;
      kind: string;
    }) => Promise<ResolveResult | undefined>,
  ): void;
  resolve(path: string, opts: { resolveDir: string; kind: string }): Promise<ResolveResult>;
}
export interface EsbuildPlugin {
  name: string;
  setup(build: PluginBuild): void;
}
