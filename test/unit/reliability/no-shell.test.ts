/**
 * External commands run with argument arrays, never a shell (issue 7): a scan of every file under
 * src/, plus tests of the scanner itself on known-bad snippets so a silent scanner cannot pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execChokepoint, scanSource, shellRules, stripComments } from './shell-scan.ts';

const root = path.resolve(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

describe('the scanner', () => {
  // Each row: a snippet, the rule it must trip, and why it is dangerous.
  const bad: [string, string, string][] = [
    [
      "import { exec } from 'node:child_process';\nexec(`helm upgrade ${release}`);",
      'child_process exec',
      'shell command line',
    ],
    [
      "import cp from 'child_process';\ncp.execSync('kubectl get ns');",
      'child_process exec',
      'execSync is a shell too',
    ],
    [
      "import { spawn } from 'node:child_process';\nspawn('helm', args, { shell: true });",
      'shell: true',
      'spawn through a shell',
    ],
    [
      "import { spawn } from 'node:child_process';\nspawn(bin, args, { shell: '/bin/bash' });",
      'shell: true',
      'a shell path is still a shell',
    ],
    [
      "import { execa } from 'execa';\nawait execa(`nginx-meshctl ${flags}`);",
      'execa template command',
      'one string command',
    ],
    ["import { $ } from 'execa';\nawait $`helm upgrade ${name}`;", 'execa tagged template', 'script interface'],
    [
      "import { execa } from 'execa';\nawait execa({ stdio: 'inherit' })`helm list`;",
      'execa tagged template',
      'options-bound tagged template',
    ],
    ["import { execaCommand } from 'execa';\nawait execaCommand('helm list');", 'execaCommand', 'parses a string'],
    [
      "import { execa } from 'execa';\nawait execa('helm', args, { shell: true });",
      'shell: true',
      'execa with a shell',
    ],
  ];
  for (const [code, rule, why] of bad) {
    it(`flags ${rule}: ${why}`, () => {
      expect(scanSource('src/x.ts', code).map((f) => f.rule)).toContain(rule);
    });
  }

  it('flags execa imported outside the runner, and child_process anywhere', () => {
    expect(
      scanSource('src/mesh/x.ts', "import { execa } from 'execa';\nawait execa('helm', ['list']);").map((f) => f.rule),
    ).toEqual(['execa outside the runner']);
    expect(
      scanSource(execChokepoint, "import { execa } from 'execa';\nawait execa(cmd.bin, cmd.args, { shell: false });"),
    ).toEqual([]);
    expect(
      scanSource('src/y.ts', "import { spawn } from 'node:child_process';\nspawn('a', ['b']);").map((f) => f.rule),
    ).toEqual(['child_process import']);
  });

  it('ignores comments and argument-array calls', () => {
    expect(
      scanSource(
        execChokepoint,
        "import { execa } from 'execa';\n// never exec(`x`) or shell: true\n/* $`x` */\nawait execa(bin, ['a', `--x=${y}`]);",
      ),
    ).toEqual([]);
    expect(stripComments('a // b\nc /* d\ne */ f').split('\n')).toHaveLength(3);
  });

  it('every rule says why', () => {
    for (const r of shellRules) expect(r.why.length).toBeGreaterThan(10);
  });
});

describe('src/ runs no shell', () => {
  const files = sourceFiles(path.join(root, 'src'));

  it('scans the whole source tree', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.map((f) => path.relative(root, f))).toContain(execChokepoint);
  });

  it('no file uses child_process, a shell, a string command, or execa outside src/exec/runner.ts', () => {
    const findings = files.flatMap((f) =>
      scanSource(path.relative(root, f).split(path.sep).join('/'), fs.readFileSync(f, 'utf8')),
    );
    expect(findings.map((f) => `${f.file}:${f.line} ${f.rule}: ${f.text}`)).toEqual([]);
  });

  it('the runner passes shell: false explicitly', () => {
    expect(fs.readFileSync(path.join(root, execChokepoint), 'utf8')).toMatch(/shell:\s*false/);
  });
});
