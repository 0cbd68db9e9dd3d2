/**
 * Finds ways a source file could hand a command line to a shell: child_process exec/execSync (they
 * always use /bin/sh), spawn/execFile/fork with `shell: true`, execa with a template-string command
 * or tagged template ($`...`, execa`...`), execaCommand (parses a string), `shell: true` anywhere,
 * and execa imported outside the one exec chokepoint (src/exec/runner.ts). Pure: the test
 * reads the files.
 */

export const execChokepoint = 'src/exec/runner.ts';

export interface ShellFinding {
  file: string;
  line: number;
  rule: string;
  text: string;
}

/** Each rule: what it matches, and why it is refused. */
export const shellRules: readonly { rule: string; re: RegExp; why: string }[] = [
  {
    rule: 'child_process exec',
    re: /\b(?:exec|execSync)\s*\(/,
    why: 'exec/execSync run their argument through /bin/sh',
  },
  {
    rule: 'shell: true',
    re: /\bshell\s*:\s*(?:true|['"`][^'"`]+['"`])/,
    why: 'any exec API with shell: true (or a shell path) parses the command line',
  },
  {
    rule: 'execa template command',
    re: /\bexeca(?:Sync|Node)?\s*\(\s*`/,
    why: 'a template-string command invites interpolating user input into one string',
  },
  {
    rule: 'execa tagged template',
    re: /(?:\$|\bexeca(?:Sync)?)\s*(?:\([^)]*\))?\s*`/,
    why: "execa's script interface builds the argument list from a string",
  },
  { rule: 'execaCommand', re: /\bexecaCommand(?:Sync)?\b/, why: 'parses a command string (quoting bugs, injection)' },
];

const childProcessImport = /from\s+['"](?:node:)?child_process['"]|require\(\s*['"](?:node:)?child_process['"]\s*\)/;
const execaImport = /from\s+['"]execa['"]|import\(\s*['"]execa['"]\s*\)/;

/** Strips // and /* *\/ comments (keeping line count) so documentation does not trip the rules. */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Every finding in one file (`file` relative to the repository root, with forward slashes). */
export function scanSource(file: string, text: string): ShellFinding[] {
  const code = stripComments(text);
  const lines = code.split('\n');
  const out: ShellFinding[] = [];
  const usesChildProcess = childProcessImport.test(code);
  lines.forEach((l, i) => {
    for (const r of shellRules) {
      if (r.rule === 'child_process exec' && !usesChildProcess) continue;
      if (r.rule === 'execa tagged template' && !execaImport.test(code)) continue;
      if (r.re.test(l)) out.push({ file, line: i + 1, rule: r.rule, text: l.trim() });
    }
  });
  if (file !== execChokepoint) {
    const i = lines.findIndex((l) => execaImport.test(l));
    if (i >= 0) out.push({ file, line: i + 1, rule: 'execa outside the runner', text: lines[i]!.trim() });
  }
  if (usesChildProcess) {
    const i = lines.findIndex((l) => childProcessImport.test(l));
    out.push({ file, line: i + 1, rule: 'child_process import', text: lines[i]?.trim() ?? '' });
  }
  return out;
}
