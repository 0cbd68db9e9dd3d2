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
 * Flags whose value is a path: complete file names for them rather than offering commands.
 * Every other flag value is either a choice (yargs lists the choices) or free text.
 */
export const pathFlags: readonly { flag: string; why: string }[] = [
  { flag: '--kubeconfig', why: 'a kubeconfig file' },
  { flag: '--backup-dir', why: 'the directory the upgrade writes its backup to' },
  { flag: '--resume', why: 'the backup directory of the run to resume' },
  { flag: '--from', why: 'restore reads this backup directory' },
  { flag: '--dir', why: 'backup writes this directory' },
  { flag: '--meshctl', why: 'an nginx-meshctl binary or a directory of them' },
  { flag: '--meshctl-current', why: 'the installed version\'s nginx-meshctl binary' },
  { flag: '--helm', why: 'a helm binary' },
  { flag: '--chart', why: 'a chart directory (or a repo reference, typed by hand)' },
];

export interface Candidate { value: string; description?: string }

export interface Completion { candidates: Candidate[]; directive: number }

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
  /** Flags that take no value (booleans and counts), without dashes, aliases included. */
  switches: ReadonlySet<string>;
}

/** `--flag`/`-f` (no `=value`) whose value comes next: not a known switch. */
function takesValue(word: string, shape: CliShape): boolean {
  const m = /^--?([^=-][^=]*)$/.exec(word);
  return m !== null && !shape.switches.has(m[1]!) && !/^no-/.test(m[1]!);
}

/**
 * Turns yargs's raw lines for `words` (the last one is the word being completed, possibly '')
 * into candidates: parsed, deduplicated, filtered by the typed prefix, and the directive that
 * says whether the shell may offer file names. A bare word is a command name only before any
 * command (commands take no positional arguments); after a flag that takes a value it is that
 * value: the flag's choices, file names for path flags, else nothing.
 */
export function shapeCompletion(words: readonly string[], yargsLines: readonly string[], shape: CliShape): Completion {
  const current = words.at(-1) ?? '';
  const previous = words.at(-2) ?? '';
  const parsed = yargsLines.map(parseYargsLine).filter((c): c is Candidate => c !== undefined && c.value !== '--get-yargs-completions');
  let pool: Candidate[];
  if (current.startsWith('-')) {
    pool = parsed.filter((c) => c.value.startsWith('-'));
  } else if (takesValue(previous, shape)) {
    if (pathFlags.some((p) => p.flag === previous)) return { candidates: [], directive: directive.default };
    pool = parsed.filter((c) => !c.value.startsWith('-') && !shape.commands.has(c.value));
  } else if (words.slice(0, -1).some((w) => shape.commands.has(w))) {
    pool = [];
  } else {
    pool = parsed.filter((c) => shape.commands.has(c.value));
  }
  const seen = new Set<string>();
  const candidates = pool.filter((c) => c.value.startsWith(current) && !seen.has(c.value) && seen.add(c.value));
  return { candidates, directive: directive.noFileComp };
}

/** Cobra's `__complete` output: candidates (tab before a description), then `:<directive>`. */
export function formatCobra(c: Completion): string {
  const lines = c.candidates.map((x) => (x.description ? `${x.value}\t${x.description.replace(/[\t\n]/g, ' ')}` : x.value));
  return `${[...lines, `:${c.directive}`].join('\n')}\n`;
}

/** The yargs methods this needs beyond the typed public API (yargs 18: build/lib/yargs-factory.js). */
interface YargsInternals {
  getInternalMethods(): {
    getLoggerInstance(): { log: (...args: unknown[]) => void };
    getCommandInstance(): { getCommands(): string[] };
  };
  getOptions(): { boolean: string[]; count: string[]; alias: Record<string, string[]> };
}

/** Commands and value-less flags, read from a fresh CLI instance (its global options). */
export function cliShape(build: (argv: string[]) => Argv): CliShape {
  const cli = build([]) as unknown as YargsInternals;
  const commands = new Set(cli.getInternalMethods().getCommandInstance().getCommands().filter((c) => c !== '$0'));
  const o = cli.getOptions();
  const switches = new Set<string>();
  for (const k of [...o.boolean, ...o.count]) { switches.add(k); for (const a of o.alias[k] ?? []) switches.add(a); }
  return { commands, switches };
}

/**
 * Asks a fresh CLI instance for the candidates of `words`. yargs's completion mode re-runs the
 * command builders, so it needs a full parse of `--get-yargs-completions <words>`; its output
 * goes to the instance's logger, which is pointed at an array instead of the console.
 */
export async function completeWords(build: (argv: string[]) => Argv, words: readonly string[]): Promise<Completion> {
  const typed = words.length === 0 ? [''] : [...words];
  const args = ['--get-yargs-completions', ...typed];
  const cli = build(args).exitProcess(false);
  const lines: string[] = [];
  (cli as unknown as YargsInternals).getInternalMethods().getLoggerInstance().log = (...a: unknown[]) => { lines.push(a.join(' ')); };
  await cli.parseAsync();
  return shapeCompletion(typed, lines, cliShape(build));
}
