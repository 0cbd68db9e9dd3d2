import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../src/cli/app.ts';
import { commandOf, formatCobra, parseYargsLine, shapeCompletion } from '../../../src/cli/completion-engine.ts';
import { detectShell } from '../../../src/cli/completion-scripts.ts';
import { clusterEnv, repoRoot } from '../../support/cluster.ts';

/** Runs the CLI in-process; the completion command writes its output to stdout. */
async function run(args: string[]) {
  let out = '';
  let err = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  } finally {
    spy.mockRestore();
  }
}

const values = (out: string) =>
  out
    .trimEnd()
    .split('\n')
    .slice(0, -1)
    .map((l) => l.split('\t')[0]);
const directiveOf = (out: string) => out.trimEnd().split('\n').at(-1);

afterEach(() => vi.unstubAllEnvs());

describe('completion scripts', () => {
  it('prints a bash script bound to kubectl-nsm_upgrade that asks the tool for candidates', async () => {
    const r = await run(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^complete -o default -F _kubectl_nsm_upgrade_complete kubectl-nsm_upgrade$/m);
    expect(r.out).toContain('kubectl-nsm_upgrade completion __complete --');
  });
  it('prints a zsh script with #compdef and compdef for kubectl-nsm_upgrade', async () => {
    const r = await run(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('#compdef kubectl-nsm_upgrade');
    expect(r.out).toMatch(/compdef _kubectl_nsm_upgrade_complete kubectl-nsm_upgrade/);
  });
  it('picks zsh from $ZSH_NAME or $SHELL, else bash', async () => {
    expect(detectShell({ ZSH_NAME: 'zsh' })).toBe('zsh');
    expect(detectShell({ SHELL: '/usr/bin/zsh' })).toBe('zsh');
    expect(detectShell({ SHELL: '/bin/bash' })).toBe('bash');
    vi.stubEnv('SHELL', '/bin/zsh');
    expect((await run(['completion'])).out).toMatch(/^#compdef/);
  });
  it('refuses an unknown shell with exit 2 and names the choices', async () => {
    const r = await run(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown shell "fish"/);
    expect(r.err).toMatch(/completion bash.*completion zsh/);
  });
});

describe('candidates (kubectl plugin format)', () => {
  it('completes command names by prefix, never the $0 default command', async () => {
    const r = await run(['completion', '__complete', '--', 're']);
    expect(values(r.out)).toEqual(['restore', 'restart']);
    expect(directiveOf(r.out)).toBe(':4');
    const all = values((await run(['completion', '__complete', '--', ''])).out);
    expect(all).toEqual(expect.arrayContaining(['plan', 'backup', 'restore', 'status', 'restart', 'completion']));
    expect(all).not.toContain('$0');
  });
  it("completes a command's own flags and a flag's choices", async () => {
    expect(values((await run(['completion', '__complete', '--', 'restore', '--on'])).out)).toEqual(['--on-conflict']);
    expect(values((await run(['completion', '__complete', '--', 'restore', '--on-conflict', ''])).out)).toEqual([
      'skip',
      'overwrite',
      'fail',
    ]);
    expect(values((await run(['completion', '__complete', '--', '--strategy', 'm'])).out)).toEqual(['manual']);
    expect(values((await run(['completion', '__complete', '--', 'status', '--na'])).out)).toEqual(['--namespace']);
  });
  it('offers each command only its own flags and the global ones', async () => {
    const flags = async (...words: string[]) =>
      values((await run(['completion', '__complete', '--', ...words, '--'])).out);
    const globals = ['--kubeconfig', '--context', '--mesh-namespace', '--output', '--verbose'];
    const status = await flags('status');
    expect(status).toEqual(expect.arrayContaining([...globals, '--namespace']));
    for (const f of ['--resume', '--helm', '--yes', '--dry-run', '--timeout', '--concurrency', '--to'])
      expect(status).not.toContain(f);
    const backup = await flags('backup');
    expect(backup).toEqual(expect.arrayContaining([...globals, '--dir', '--namespace', '--release', '--concurrency']));
    for (const f of ['--yes', '--dry-run', '--timeout', '--resume']) expect(backup).not.toContain(f);
    const restore = await flags('restore');
    expect(restore).toEqual(
      expect.arrayContaining([
        ...globals,
        '--from',
        '--on-conflict',
        '--to-version',
        '--dry-run',
        '--timeout',
        '--concurrency',
      ]),
    );
    for (const f of ['--to', '--yes', '--helm', '--namespace']) expect(restore).not.toContain(f);
    // No command typed: the default command (upgrade), whose flags are the plan's, the run's and its own.
    const upgrade = await flags();
    expect(upgrade).toEqual(
      expect.arrayContaining([
        ...globals,
        '--to',
        '--resume',
        '--yes',
        '--dry-run',
        '--helm',
        '--meshctl',
        '--backup-dir',
        '--restart',
        '--break-lock',
      ]),
    );
    for (const f of ['--dir', '--from', '--namespace']) expect(upgrade).not.toContain(f);
    expect(await flags('completion')).toEqual(expect.arrayContaining(globals));
  });
  it('offers no command names where a flag value or nothing belongs', async () => {
    expect((await run(['completion', '__complete', '--', '--to', ''])).out).toBe(':4\n');
    expect((await run(['completion', '__complete', '--', 'status', ''])).out).toBe(':4\n');
    expect(values((await run(['completion', '__complete', '--', '--context', 'prod', 're'])).out)).toEqual([
      'restore',
      'restart',
    ]);
    expect(values((await run(['completion', '__complete', '--', '-v', 'st'])).out)).toEqual(['status']);
    // After a flag of the default command (upgrade), a command name would be refused: none is offered.
    expect((await run(['completion', '__complete', '--', '--dry-run', 're'])).out).toBe(':4\n');
    expect((await run(['completion', '__complete', '--', '--to', '1.7.0', ''])).out).toBe(':4\n');
  });
  it('tells the command from flag values as yargs does: only global flags may come before it', () => {
    const shape = { commands: new Set(['status', 'restore']), switches: new Set(['v', 'verbose', 'help']) };
    expect(commandOf(['status', '-n'], shape)).toBe('status');
    expect(commandOf(['--context', 'status', 'restore'], shape)).toBe('restore'); // a context named "status"
    expect(commandOf(['-v', 'restore', '--from'], shape)).toBe('restore');
    expect(commandOf(['--dry-run', 'restore'], shape)).toBe('$0'); // an upgrade flag takes the word, as yargs parses it
    expect(commandOf(['--to', '1.7.0'], shape)).toBe('$0');
    expect(commandOf([], shape)).toBe('$0');
  });
  it('leaves path-valued flags to file-name completion (directive 0)', async () => {
    const r = await run(['completion', '__complete', '--', 'restore', '--from', '']);
    expect(r.out).toBe(':0\n');
  });
  it('normalises yargs lines: zsh descriptions, escaped colons, one-letter aliases', () => {
    expect(parseYargsLine('plan:Print the plan')).toEqual({ value: 'plan', description: 'Print the plan' });
    expect(parseYargsLine('a\\:b:desc')).toEqual({ value: 'a:b', description: 'desc' });
    expect(parseYargsLine('--y')).toEqual({ value: '-y' });
    expect(parseYargsLine('$0:Upgrade')).toBeUndefined();
    const c = shapeCompletion(['--o'], ['--output:fmt', '--o:fmt', '--output:fmt'], {
      commands: new Set(),
      globals: new Set(),
      switches: new Set(),
    });
    expect(formatCobra(c)).toBe('--output\tfmt\n:4\n');
  });
});

describe('shell integration', () => {
  const binDir = path.join(repoRoot, 'bin');
  const env = { PATH: `${binDir}:${process.env.PATH}` };

  it('bash: the printed script fills COMPREPLY through the real kubectl-nsm_upgrade', async () => {
    const script = (await run(['completion', 'bash'])).out;
    const probe = `${script}\nCOMP_WORDS=(kubectl-nsm_upgrade restore --on-conflict o); COMP_CWORD=3\n_kubectl_nsm_upgrade_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"\n`;
    const res = await execa('bash', ['-c', probe], { env, reject: false });
    expect(res.exitCode).toBe(0);
    expect(res.stdout.trim()).toBe('overwrite');
  }, 60_000);

  const zsh = ['/usr/bin/zsh', '/bin/zsh'].find((f) => fs.existsSync(f));
  it.skipIf(!zsh)(
    `zsh: the printed script offers candidates with descriptions, and files for path flags${zsh ? '' : ' [skipped: zsh is not installed]'}`,
    async () => {
      const script = path.join(os.tmpdir(), `nsm-completion-${process.pid}.zsh`);
      fs.writeFileSync(script, (await run(['completion', 'zsh'])).out);
      // compsys is not loaded in zsh -f: stand-ins print what _describe and _files would offer.
      const probe =
        `compdef() { :; }\n_describe() { print -l -- "\${(@P)2}"; }\n_files() { print FILES; }\nsource ${script}\n` +
        `words=(kubectl-nsm_upgrade re); CURRENT=2; _kubectl_nsm_upgrade_complete\n` +
        `words=(kubectl-nsm_upgrade restore --from ''); CURRENT=4; _kubectl_nsm_upgrade_complete\n`;
      try {
        const res = await execa(zsh!, ['-f', '-c', probe], { env: { ...env, SHELL: zsh! }, reject: false });
        expect(res.exitCode, String(res.stderr)).toBe(0);
        const lines = String(res.stdout).split('\n');
        expect(lines.map((l) => l.split(':')[0])).toEqual(['restore', 'restart', 'FILES']);
        expect(lines[0]).toMatch(/^restore:Verify a backup/);
      } finally {
        fs.rmSync(script, { force: true });
      }
    },
    60_000,
  );

  const kubectlBin = clusterEnv().KUBECTL!;
  const haveKubectl = path.isAbsolute(kubectlBin) ? fs.existsSync(kubectlBin) : true;
  it('kubectl: `kubectl nsm-upgrade <TAB>` runs kubectl_complete-nsm_upgrade from PATH (kubectl 1.26+)', async (ctx) => {
    ctx.skip(!haveKubectl, `no kubectl at ${kubectlBin} (npm run cluster:up builds it)`);
    // kubectl's hidden __complete command is what its bash/zsh completion calls on <TAB>.
    const res = await execa(kubectlBin, ['__complete', 'nsm-upgrade', 'restore', '--on-conflict', ''], {
      env,
      reject: false,
    });
    expect(res.exitCode, `${res.stderr}`).toBe(0);
    expect(res.stdout.split('\n').filter((l) => l && !l.startsWith(':'))).toEqual(['skip', 'overwrite', 'fail']);
    expect(res.stderr).toMatch(/kubectl_complete-nsm_upgrade/);
  }, 60_000);
});
