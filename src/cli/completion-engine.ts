/**
 * Completion engine: the words typed after `kubectl nsm-upgrade` in, candidates out, in the
 * format kubectl expects from a plugin's `kubectl_complete-<plugin>` executable (Cobra's
 * `__complete` protocol: one candidate per line, optionally `value<TAB>description`, then a last
 * line `:<directive>`). The candidates themselves come from yargs (it knows every command, flag
 * and choice); this module only normalises them. Pure apart from `completeWords`.
 */
import type { Argv } from 'yargs';

/** Cobra's ShellCompDirective bits (kubectl reads them from the last line). */
export const directive = {
  /** Let the shell fall back to file-name completion when there are no candidates. */
  default: 0,
  /** No candidates means none: no file names either. */
  noFileComp: 4,
} as const;

/**
 * Flags whose value is a path (flag -> what path): complete file names for them rather than offering commands.
 * Every other flag value is either a choice (yargs lists the choices) or free text.
 */
export const pathFlags: Readonly<Record<string, string>> = {
  '--kubeconfig': 'a kubeconfig file',
  '--backup-dir': 'the directory the upgrade writes its backup to',
  '--resume': 'the backup directory of the run to resume',
  '--from': 'restore reads this backup directory',
  '--dir': 'backup writes this directory',
  '--meshctl': 'an nginx-meshctl binary or a directory of them',
  '--meshctl-current': "the installed version's nginx-meshctl binary",
  '--helm': 'a helm binary',
  '--chart': 'a chart directory (or a repo reference, typed by hand)',
};

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  candidates: Candidate[];
  directive: number;
}

/** One yargs line: plain `value`, or zsh-mode `value:description` with `:` in the value escaped. */
export function parseYargsLine(line: string): Candidate | undefined {
  const m = /^((?:[^:\\]|\\.)*)(?::(.*))?$/s.exec(line);
  if (!m || !m[1]) return undefined;
  let value = m[1].replace(/\\(.)/g, '$1');
  if (value === '$0') return undefined; // the default command (upgrade) has no name to type
  if (/^--[^-]$/.test(value)) value = value.slice(1); // yargs renders some one-letter aliases as --y
  return m[2] ? { value, description: m[2] } : { value };
}

/** What the CLI declares, for telling a flag's value from a command name. */
export interface CliShape {
  /** Command names ('$0', the default command, excluded). */
  commands: ReadonlySet<string>;
  /** Flags every command takes (yargs's global options), without dashes, aliases included. */
  globals: ReadonlySet<string>;
  /** Flags that take no value (booleans and counts) of the command being completed, globals included, without dashes, aliases included. */
  switches: ReadonlySet<string>;
}

/** `--flag`/`-f` (no `=value`) whose value comes next: not a known switch. */
function takesValue(word: string, shape: Pick<CliShape, 'switches'>): boolean {
  const m = /^--?([^=-][^=]*)$/.exec(word);
  return m !== null && !shape.switches.has(m[1]!) && !/^no-/.test(m[1]!);
}

/** A global flag (`--context`, `-v`, `-vv`, `--output=json`): the only flags that may come before a command name. */
function isGlobalFlag(word: string, shape: CliShape): boolean {
  const m = /^(--?)([^=]+)/.exec(word);
  if (!m) return false;
  if (shape.globals.has(m[2]!)) return true;
  return m[1] === '-' && [...m[2]!].every((c) => shape.globals.has(c)); // -vv
}

/**
 * The command that `before` (the words before the one being completed) runs, as yargs decides it:
 * the first bare word that is no flag's value, when it is a command name; else the default
 * command, '$0'. `shape` holds the global switches only: at that point yargs knows no other flag,
 * and an unknown `--flag` takes the next word as its value.
 */
export function commandOf(before: readonly string[], shape: Pick<CliShape, 'commands' | 'switches'>): string {
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    if (w.startsWith('-')) {
      if (takesValue(w, shape)) i++;
      continue;
    }
    return shape.commands.has(w) ? w : '$0';
  }
  return '$0';
}

/** Only global flags (and their values) so far: a command name may still come. */
function beforeAnyCommand(before: readonly string[], shape: CliShape): boolean {
  for (let i = 0; i < before.length; i++) {
    if (!isGlobalFlag(before[i]!, shape)) return false;
    if (takesValue(before[i]!, shape)) i++;
  }
  return true;
}

/**
 * Turns yargs's raw lines for `words` (the last one is the word being completed, possibly '')
 * into candidates: parsed, deduplicated, filtered by the typed prefix, and the directive that
 * says whether the shell may offer file names. A bare word is a command name only while nothing
 * but global flags came before it (commands take no positional arguments, and after a flag of
 * the default command a command name is no longer one); after a flag that takes a value it is
 * that value: the flag's choices, file names for path flags, else nothing.
 */
export function shapeCompletion(words: readonly string[], yargsLines: readonly string[], shape: CliShape): Completion {
  const current = words.at(-1) ?? '';
  const previous = words.at(-2) ?? '';
  const parsed = yargsLines
    .map(parseYargsLine)
    .filter((c): c is Candidate => c !== undefined && c.value !== '--get-yargs-completions');
  let pool: Candidate[];
  if (current.startsWith('-')) {
    pool = parsed.filter((c) => c.value.startsWith('-'));
  } else if (takesValue(previous, shape)) {
    if (Object.hasOwn(pathFlags, previous)) return { candidates: [], directive: directive.default };
    pool = parsed.filter((c) => !c.value.startsWith('-') && !shape.commands.has(c.value));
  } else if (beforeAnyCommand(words.slice(0, -1), shape)) {
    pool = parsed.filter((c) => shape.commands.has(c.value));
  } else {
    pool = [];
  }
  const seen = new Set<string>();
  const candidates = pool.filter((c) => c.value.startsWith(current) && !seen.has(c.value) && seen.add(c.value));
  return { candidates, directive: directive.noFileComp };
}

/** Cobra's `__complete` output: candidates (tab before a description), then `:<directive>`. */
export function formatCobra(c: Completion): string {
  const lines = c.candidates.map((x) =>
    x.description ? `${x.value}\t${x.description.replace(/[\t\n]/g, ' ')}` : x.value,
  );
  return `${[...lines, `:${c.directive}`].join('\n')}\n`;
}

/** The yargs methods this needs beyond the typed public API (yargs 18: build/lib/yargs-factory.js, command.js). */
interface YargsInternals {
  getInternalMethods(): {
    getLoggerInstance(): { log: (...args: unknown[]) => void };
    getCommandInstance(): {
      getCommands(): string[];
      /** By command name ('$0' for the default command). */
      getCommandHandlers(): Record<string, { builder?: ((y: Argv) => unknown) | object }>;
    };
  };
  getOptions(): { key: Record<string, unknown>; boolean: string[]; count: string[]; alias: Record<string, string[]> };
}

/** The same yargs instance, seen with the internals above (present at run time, not in the types). */
function internals(cli: Argv): Argv & YargsInternals {
  return cli as Argv & YargsInternals;
}

/** Declares the options of `command` ('$0': the default command) on `cli`, by running its builder. */
function declareCommandOptions(cli: Argv & YargsInternals, command: string): void {
  const builder = cli.getInternalMethods().getCommandInstance().getCommandHandlers()[command]?.builder;
  if (typeof builder === 'function') builder(cli);
}

function withAliases(keys: readonly string[], alias: Record<string, string[]>): Set<string> {
  return new Set(keys.flatMap((k) => [k, ...(alias[k] ?? [])]));
}

/**
 * Commands and flags, read from a fresh CLI instance: its options are the global ones; with
 * `command` ('$0' for the default command), that command's builder runs first, so `switches`
 * are the ones that command takes.
 */
/** Every flag (without dashes, aliases included) that `command` ('$0': the upgrade) of the CLI `build` makes takes, the global ones included. */
export function commandFlags(build: (argv: string[]) => Argv, command: string): ReadonlySet<string> {
  const cli = internals(build([]));
  declareCommandOptions(cli, command);
  return withAliases(Object.keys(cli.getOptions().key), cli.getOptions().alias);
}

export function cliShape(build: (argv: string[]) => Argv, command?: string): CliShape {
  const cli = internals(build([]));
  const commands = new Set(
    cli
      .getInternalMethods()
      .getCommandInstance()
      .getCommands()
      .filter((c) => c !== '$0'),
  );
  const globals = withAliases(Object.keys(cli.getOptions().key), cli.getOptions().alias);
  if (command !== undefined) declareCommandOptions(cli, command);
  const o = cli.getOptions();
  return { commands, globals, switches: withAliases([...o.boolean, ...o.count], o.alias) };
}

/**
 * Asks a fresh CLI instance for the candidates of `words`. yargs's completion mode re-runs the
 * builder of a command it finds among the words, so it needs a full parse of
 * `--get-yargs-completions <words>`; its output goes to the instance's logger, which is pointed at
 * an array instead of the console. Without a command among the words the default command
 * (upgrade) runs, whose flags yargs would not offer: its builder declares them on the top level.
 */
export async function completeWords(build: (argv: string[]) => Argv, words: readonly string[]): Promise<Completion> {
  const typed = words.length === 0 ? [''] : [...words];
  const command = commandOf(typed.slice(0, -1), cliShape(build));
  const cli = internals(build(['--get-yargs-completions', ...typed]).exitProcess(false));
  if (command === '$0') declareCommandOptions(cli, '$0');
  const lines: string[] = [];
  cli.getInternalMethods().getLoggerInstance().log = (...a: unknown[]) => {
    lines.push(a.join(' '));
  };
  await cli.parseAsync();
  return shapeCompletion(typed, lines, cliShape(build, command));
}
