import { enableCompileCache } from './compile-cache.ts';

// Before anything else is loaded: the CLI itself comes from the compile cache too.
enableCompileCache();
const { runCli } = await import('./cli/app.ts');
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
