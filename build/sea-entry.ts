/**
 * Entry point of the single-file executable. Same as src/main.ts, without top-level await: the
 * bundle is CommonJS, which Node 24's single executable applications require for the main script.
 * In a single executable, process.argv[1] is the executable again, so the user's words start at 2.
 */
import { runCli } from '../src/cli/app.ts';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
