import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.ts';
import { outputFormat, type Declared, type GlobalArgv, type GlobalFlags } from './options.ts';

/** Adds `--help` examples, each [command line, what it does]. */
export function withExamples<T>(y: Argv<T>, examples: readonly (readonly [string, string])[]): Argv<T> {
  return examples.reduce((a, [line, what]) => a.example(line, what), y);
}

/**
 * A flag that takes one value, given twice (`--timeout 3m --timeout 90s`), is an error, not an
 * array handed to code that expects a string, nor a silent "last one wins".
 */
function assertGivenOnce(argv: Record<string, unknown>, arrays: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries(argv)) {
    // Aliases (-o) and camelCase copies are the same flag as its dashed name, which is checked.
    if (key.length === 1 || key === '_' || !Array.isArray(value) || arrays.has(key) || /[A-Z]/.test(key)) continue;
    throw new UsageError(
      `--${key} was given more than once (${value.map((v) => JSON.stringify(v)).join(', ')})`,
      `Give --${key} once.`,
    );
  }
}

/** The flags a builder declared `array: true` (yargs has getOptions() at run time, not in its types). */
function declaredArrays(y: object): string[] {
  if (!('getOptions' in y) || typeof y.getOptions !== 'function') return [];
  const opts: unknown = (y.getOptions as () => unknown)();
  return typeof opts === 'object' && opts !== null && 'array' in opts && Array.isArray(opts.array)
    ? opts.array.filter((a): a is string => typeof a === 'string')
    : [];
}

/** A command's implementation: its typed flags and the checked -o format. */
export type CommandRun<B extends (y: GlobalArgv) => Argv<object>, F extends string> = (
  argv: ArgumentsCamelCase<Declared<B>>,
  format: F,
) => Promise<void>;

/**
 * A yargs command (ARCHITECTURE.md, "Add a command") whose handler gets its typed flags (derived
 * from `options`, its own flags on top of the globals) and the -o format, checked against
 * `formats` (the first is the default; any other -o exits 2).
 *
 * The definition (flags, description, examples) is static: --help, --version, completion and bad
 * flags need nothing else. `load` imports the implementation (`() => import('./status.ts')...`) only
 * when the command runs, so the kube client, listr2, ajv and the CRD schemas are not even parsed
 * before then (issue 18: start-up time).
 */
export function defineCommand<B extends (y: GlobalArgv) => Argv<object>, F extends string>(
  command: string,
  describe: string,
  options: B,
  formats: readonly [F, ...F[]],
  load: () => Promise<CommandRun<B, F>>,
): CommandModule<GlobalFlags, Declared<B>> {
  let arrays: ReadonlySet<string> = new Set();
  return {
    command,
    describe,
    builder: (y) => {
      const built = options(y) as Argv<Declared<B>>;
      arrays = new Set(declaredArrays(built));
      return built;
    },
    handler: async (argv) => {
      assertGivenOnce(argv, arrays);
      const output = (argv as { output?: unknown }).output; // a global flag: every command has it
      const format = outputFormat(typeof output === 'string' ? output : undefined, formats, formats[0]);
      const run = await load();
      return run(argv, format);
    },
  };
}
