/**
 * Each command takes its own flags and the global ones, and refuses every other flag with exit 2
 * (issue 15): a flag a command would ignore must not be accepted silently. Parse only: no cluster.
 */
import { describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../../../src/cli/app.ts';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

class Parsed extends Error {}

/** Parses `args` as the CLI does, validation included, and returns the handler's argv without running the handler. */
async function parseOnly(args: string[]): Promise<Record<string, unknown>> {
  let parsed: Record<string, unknown> | undefined;
  const cli = buildCli(args)
    .fail(false)
    .middleware((argv) => {
      parsed = argv;
      throw new Parsed();
    });
  // yargs throws from a synchronous middleware synchronously: await inside an async function catches both.
  await expect((async () => cli.parseAsync())()).rejects.toBeInstanceOf(Parsed);
  return parsed!;
}

/** The flags `--help` lists for `args` (the command's own and the global ones). */
async function helpFlags(args: string[]): Promise<string[]> {
  const output = await new Promise<string>((resolve, reject) => {
    void buildCli([]).parse([...args, '--help'], {}, (err, _argv, text) => (err ? reject(err) : resolve(text)));
  });
  const options = output.slice(output.indexOf('\nOptions:')).split('\n\n')[0]!;
  return [...options.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!).sort();
}

const globals = ['--kubeconfig', '--context', '--mesh-namespace', '--output', '--verbose', '--help', '--version'];
const planFlags = [
  '--to',
  '--method',
  '--strategy',
  '--meshctl',
  '--meshctl-current',
  '--helm',
  '--release',
  '--chart',
  '--backup-dir',
  '--deploy-flag',
  '--label-namespaces',
  '--clean-leftovers',
];
const runFlags = ['--timeout', '--concurrency', '--dry-run'];
const restartFlags = ['--max-failures', '--first'];

// Each command's own flags, as its handler reads them.
const own: Record<string, string[]> = {
  '': [
    ...planFlags,
    ...runFlags,
    ...restartFlags,
    '--resume',
    '--yes',
    '--restart',
    '--break-lock',
    '--delete-bare-pods',
    '--on-failure',
    '--accept-pruning',
    '--delete-foreign-objects',
    '--require-images',
    '--registry-ca',
    '--prepull',
  ],
  plan: [...planFlags, '--timeout'],
  backup: ['--dir', '--all-namespaces', '--namespace', '--release', '--concurrency'],
  restore: ['--from', '--on-conflict', '--to-version', ...runFlags],
  status: ['--namespace', '--contexts'],
  restart: ['--restart', '--namespace', '--delete-bare-pods', '--start-over', '--undo', ...runFlags, ...restartFlags],
  fleet: [
    '--contexts',
    '--fleet',
    '--to',
    '--canary',
    '--max-parallel',
    '--soak',
    '--skip-refused',
    '--on-failure',
    '--backup-dir',
    '--resume',
    '--timeout',
    '--label-namespaces',
    '--dry-run',
    '--yes',
    '--method',
    '--strategy',
    '--meshctl',
    '--meshctl-current',
    '--helm',
    '--release',
    '--chart',
  ],
  rollback: [
    '--from',
    '--all-hops',
    '--resume',
    '--force',
    '--meshctl',
    '--meshctl-current',
    '--helm',
    '--chart',
    '--yes',
    '--restart',
    '--delete-bare-pods',
    '--break-lock',
    ...runFlags,
    ...restartFlags,
  ],
  completion: [],
};

describe('--help of each command lists its own flags and the global ones, nothing else', () => {
  for (const [command, flags] of Object.entries(own)) {
    it(command || '(upgrade, the default command)', async () => {
      expect(await helpFlags(command ? [command] : [])).toEqual([...globals, ...flags].sort());
    });
  }
});

// Each row: a command, a flag it does not take (with what the user may have meant), and what yargs names.
const refused: { args: string[]; name: string; why: string }[] = [
  { args: ['status', '--resume', 'x'], name: 'resume', why: 'only the upgrade resumes' },
  { args: ['status', '--helm', 'y'], name: 'helm', why: 'status runs no helm' },
  { args: ['status', '--timeout', '5m'], name: 'timeout', why: 'status does not wait' },
  { args: ['status', '--dry-run'], name: 'dry-run', why: 'status changes nothing anyway' },
  { args: ['backup', '--yes'], name: 'yes', why: 'backup asks nothing' },
  { args: ['backup', '--backup-dir', 'x'], name: 'backup-dir', why: 'backup names its directory --dir' },
  { args: ['backup', '--dry-run'], name: 'dry-run', why: 'a backup changes nothing in the cluster' },
  { args: ['restore', '--from', 'x', '--to', '1.7.0'], name: 'to', why: 'restore has --to-version' },
  { args: ['restore', '--from', 'x', '--yes'], name: 'yes', why: 'restore asks nothing' },
  { args: ['restart', '--to', '1.7.0'], name: 'to', why: 'restart restarts onto the running control plane' },
  { args: ['restart', '--resume', 'x'], name: 'resume', why: 'only the upgrade resumes' },
  { args: ['plan', '--to', '1.7.0', '--yes'], name: 'yes', why: 'plan changes nothing' },
  { args: ['plan', '--to', '1.7.0', '--dry-run'], name: 'dry-run', why: 'plan is a dry run already' },
  { args: ['plan', '--to', '1.7.0', '--concurrency', '4'], name: 'concurrency', why: 'plan runs nothing in parallel' },
  { args: ['completion', 'bash', '--yes'], name: 'yes', why: 'completion prints a script' },
  {
    args: ['fleet', '--contexts', 'a', '--to', '2.0.0', '--concurrency', '4'],
    name: 'concurrency',
    why: "each cluster's run keeps its default",
  },
  {
    args: ['fleet', '--contexts', 'a', '--to', '2.0.0', '--deploy-flag', 'mtls-mode=strict'],
    name: 'deploy-flag',
    why: 'a fleet carries no deploy changes (nor credentials on command lines)',
  },
  {
    args: ['fleet', '--contexts', 'a', '--to', '2.0.0', '--break-lock'],
    name: 'break-lock',
    why: 'a lease is broken on one cluster, knowingly',
  },
  { args: ['--to', '1.7.0', '--dir', 'x'], name: 'dir', why: 'the upgrade names its directory --backup-dir' },
  { args: ['--to', '1.7.0', '--from', 'x'], name: 'from', why: 'a restore flag' },
  { args: ['--to', '1.7.0', '-n', 'shop'], name: 'n', why: 'the upgrade covers every namespace' },
];

describe('a flag a command does not take: exit 2, the flag and the command help named', () => {
  for (const row of refused) {
    it(`${row.args.join(' ')} (${row.why})`, async () => {
      const r = await run(row.args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^error: Unknown arguments?: .*\\b${row.name}\\b`, 'm'));
      const command = ['plan', 'backup', 'restore', 'status', 'restart', 'fleet', 'completion'].find(
        (c) => row.args[0] === c,
      );
      expect(r.err).toContain(
        command
          ? `"${command}" does not take it: run "kubectl nsm-upgrade ${command} --help"`
          : 'The upgrade (no command) does not take it: run "kubectl nsm-upgrade --help"',
      );
      expect(r.out).toBe('');
    });
  }
  it('names every flag refused at once', async () => {
    const r = await run(['status', '--helm', 'y', '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: Unknown arguments: helm, yes$/m);
  });
  it('still takes the global flags before the command name, and names the command after them', async () => {
    const r = await run(['--context', 'prod', '-v', 'status', '--resume', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('"status" does not take it');
  });
});

describe('a one-value flag given twice: exit 2 before anything runs, not an array nor the last one', () => {
  it.each([
    [['--to', '1.7.0', '--timeout', '3m', '--timeout', '90s', '--dry-run'], 'timeout', '"3m", "90s"'],
    [['status', '-o', 'json', '-o', 'text'], 'output', '"json", "text"'],
    [['restart', '--max-failures', '1', '--max-failures', '5'], 'max-failures', '1, 5'],
  ])('%j', async (args, flag, values) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error: --${flag} was given more than once (${values})`);
    expect(r.out).toBe('');
  });
  it('flags that take a list still collect every value', async () => {
    expect(await parseOnly(['--to', '2.0.0', '--meshctl', 'a', '--meshctl', 'b', '--dry-run'])).toMatchObject({
      meshctl: ['a', 'b'],
    });
  });
});

describe('each command still takes its own flags (parsed, typed, handler not run)', () => {
  it("upgrade: the plan's, the run's and its own", async () => {
    const a = await parseOnly([
      '--to',
      '1.7.0',
      '--strategy',
      'manual',
      '--helm',
      'h',
      '--backup-dir',
      'b',
      '--timeout',
      '5m',
      '--concurrency',
      '4',
      '--dry-run',
      '--yes',
      '--restart',
      'none',
      '--break-lock',
    ]);
    expect(a).toMatchObject({
      to: '1.7.0',
      strategy: 'manual',
      helm: 'h',
      backupDir: 'b',
      timeout: '5m',
      concurrency: 4,
      dryRun: true,
      yes: true,
      restart: 'none',
      breakLock: true,
    });
    expect(await parseOnly(['--resume', 'dir', '-y'])).toMatchObject({ resume: 'dir', yes: true });
  });
  it('plan', async () => {
    expect(
      await parseOnly([
        'plan',
        '--to',
        '2.0.0',
        '--meshctl',
        'a',
        '--meshctl',
        'b',
        '--deploy-flag',
        'mtls-mode=strict',
        '--timeout',
        '5m',
        '-o',
        'yaml',
      ]),
    ).toMatchObject({
      to: '2.0.0',
      meshctl: ['a', 'b'],
      deployFlag: ['mtls-mode=strict'],
      timeout: '5m',
      output: 'yaml',
    });
  });
  it('backup', async () => {
    expect(
      await parseOnly(['backup', '--dir', 'd', '-n', 'shop', '--release', 'nsm', '--concurrency', '2']),
    ).toMatchObject({ dir: 'd', namespace: 'shop', release: 'nsm', concurrency: 2 });
  });
  it('restore', async () => {
    expect(
      await parseOnly([
        'restore',
        '--from',
        'd',
        '--on-conflict',
        'overwrite',
        '--to-version',
        '2.0.0',
        '--dry-run',
        '--timeout',
        '1m',
      ]),
    ).toMatchObject({ from: 'd', onConflict: 'overwrite', toVersion: '2.0.0', dryRun: true, timeout: '1m' });
  });
  it('status, with the global flags before and after the command name', async () => {
    expect(
      await parseOnly(['--kubeconfig', 'k', 'status', '-n', 'shop', '--mesh-namespace', 'm', '-o', 'json', '-vv']),
    ).toMatchObject({ kubeconfig: 'k', namespace: 'shop', meshNamespace: 'm', output: 'json', verbose: 2 });
  });
  it('status --contexts, one comma list or repeated', async () => {
    expect(await parseOnly(['status', '--contexts', 'a,b', '--contexts', 'c'])).toMatchObject({
      contexts: ['a,b', 'c'],
    });
  });
  it('fleet', async () => {
    expect(
      await parseOnly([
        'fleet',
        '--contexts',
        'a,b',
        '--to',
        '2.0.0',
        '--canary',
        'b',
        '--max-parallel',
        '2',
        '--soak',
        '30m',
        '--skip-refused',
        '--on-failure',
        'rollback',
        '--meshctl',
        'm',
        '-y',
        '-o',
        'json',
      ]),
    ).toMatchObject({
      contexts: ['a,b'],
      to: '2.0.0',
      canary: 'b',
      maxParallel: 2,
      soak: '30m',
      skipRefused: true,
      onFailure: 'rollback',
      meshctl: ['m'],
      yes: true,
      output: 'json',
    });
    expect(await parseOnly(['fleet', '--resume', 'd'])).toMatchObject({ resume: 'd', dryRun: false });
  });
  it('restart', async () => {
    expect(
      await parseOnly(['restart', '--restart', 'all', '--delete-bare-pods', '--concurrency', '16', '--dry-run']),
    ).toMatchObject({ restart: 'all', deleteBarePods: true, concurrency: 16, dryRun: true });
  });
  it('completion', async () => {
    expect(await parseOnly(['completion', 'zsh'])).toMatchObject({ shell: 'zsh' });
  });
});
