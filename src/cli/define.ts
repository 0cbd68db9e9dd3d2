import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { outputFormat, type Declared, type GlobalArgv, type GlobalFlags } from './options.ts';

/** Adds `--help` examples, each [command line, what it does]. */
export function withExamples<T>(y: Argv<T>, examples: readonly (readonly [string, string])[]): Argv<T> {
  return examples.reduce((a, [line, what]) => a.example(line, what), y);
}

/** A command's implementation: its typed flags and the checked -o format. */
export type CommandRun<B extends (y: GlobalArgv) => Argv<object>, F extends string> = (argv: ArgumentsCamelCase<Declared<B>>, format: F) => Promise<void>;

/**
 * A yargs command (DESIGN.md: one module per command) whose handler gets its typed flags (derived
 * from `options`, its own flags on top of the globals) and the -o format, checked against
 * `formats` (the first is the default; any other -o exits 2).
 *
 * The definition (flags, description, examples) is static: --help, --version, completion and bad
 * flags need nothing else. `load` imports the implementation (`() => import('./status.ts')...`) only
 * when the command runs, so the kube client, listr2, ajv and the CRD schemas are not even parsed
 * before then (issue 18: start-up time).
 */
export function defineCommand<B extends (y: GlobalArgv) => Argv<object>, F extends string>(
  command: string, describe: string, options: B, formats: readonly [F, ...F[]], load: () => Promise<CommandRun<B, F>>,
): CommandModule<GlobalFlags, Declared<B>> {
  return {
    command,
    describe,
    builder: (y) => options(y) as Argv<Declared<B>>,
    handler: async (argv) => {
      const output = (argv as { output?: unknown }).output; // a global flag: every command has it
      const format = outputFormat(typeof output === 'string' ? output : undefined, formats, formats[0]);
      const run = await load();
      return run(argv, format);
    },
  };
}
