/**
 * The command line: every command's definition (flags, description, examples), static, and the one
 * top-level catch. A command's implementation is imported when it runs (defineCommand's `load`):
 * --help, --version, completion and bad flags load yargs and these definitions only (issue 18).
 */
import yargs from 'yargs';
import { completionCommand } from './completion.ts';
import { cliShape, commandOf } from './completion-engine.ts';
import { defineCommand, type CommandRun } from './define.ts';
import { withGlobalOptions } from './options.ts';
import { backupOptions } from './backup-options.ts';
import { fleetOptions } from './fleet-options.ts';
import { planOptions } from './plan-options.ts';
import { restartOptions } from './restart-options.ts';
import { restoreOptions } from './restore-options.ts';
import { rollbackOptions } from './rollback-options.ts';
import { statusOptions } from './status-options.ts';
import { upgradeOptions } from './upgrade-options.ts';
import { reportToolError, type Io } from './report-tool-error.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { scrub } from '../secret.ts';

export type { Io } from './report-tool-error.ts';

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export function buildCli(argv: string[]) {
  return (
    withGlobalOptions(yargs(argv))
      .scriptName('kubectl nsm-upgrade')
      .usage(
        '$0 [command] [flags]\n\nUpgrades NGINX Service Mesh without losing a traffic policy: backs up the SMI and NGINX\ncustom resources, upgrades the control plane one minor version at a time (in place, or\nremove and redeploy), restores the resources, restarts injected workloads and verifies\nthat every sidecar runs the new version.',
      )
      .command(
        defineCommand(
          '$0',
          'Upgrade the mesh to --to VERSION: back up, upgrade (in place or remove and redeploy), restore, restart, verify',
          upgradeOptions,
          ['text', 'json'],
          () => import('./upgrade.ts').then((m) => m.runUpgradeCommand),
        ),
      )
      .command(
        defineCommand(
          'plan',
          'Print the upgrade plan (hops, strategy, steps, warnings) without changing anything',
          planOptions,
          ['text', 'json', 'yaml'],
          () => import('./plan.ts').then((m) => m.runPlanCommand),
        ),
      )
      .command(
        defineCommand(
          'backup',
          "Back up the mesh's SMI and NGINX custom resources, CRDs and install configuration to a verified directory",
          backupOptions,
          ['text', 'json'],
          () => import('./backup.ts').then((m) => m.runBackupCommand),
        ),
      )
      .command(
        defineCommand(
          'restore',
          'Verify a backup directory and re-create its resources, then check every object against the backup',
          restoreOptions,
          ['text', 'json'],
          () => import('./restore.ts').then((m) => m.runRestoreCommand),
        ),
      )
      .command(
        defineCommand(
          'status',
          'Control-plane version and health, and every injected workload by sidecar version (exit 4 when behind)',
          statusOptions,
          ['text', 'json'],
          () => import('./status.ts').then((m) => m.runStatusCommand),
        ),
      )
      .command(
        defineCommand(
          'restart',
          'Restart injected workloads until every sidecar runs the control plane version',
          restartOptions,
          ['text', 'json'],
          () => import('./restart.ts').then((m) => m.runRestartCommand),
        ),
      )
      // fleet asks the whole CLI (buildCli) whether each cluster's upgrade takes --on-failure.
      .command(
        defineCommand(
          'fleet',
          'Upgrade the mesh on many clusters as one plan: canary first, then waves',
          fleetOptions,
          ['text', 'json'],
          () =>
            import('./fleet.ts').then(
              (m): CommandRun<typeof fleetOptions, 'text' | 'json'> =>
                (argv, format) =>
                  m.runFleetCommand(argv, format, buildCli),
            ),
        ),
      )
      .command(
        defineCommand(
          'rollback',
          'Return the mesh to the version before the last hop of an upgrade run (--all-hops: before the run), with its settings, CRDs, resources and sidecars',
          rollbackOptions,
          ['text', 'json'],
          () => import('./rollback.ts').then((m) => m.runRollbackCommand),
        ),
      )
      .command(completionCommand(buildCli))
      .epilogue(
        'Exit codes: 0 done; 1 failed; 2 bad usage or input; 3 refused by preflight (nothing changed); 4 finished but not converged.',
      )
      .version(toolVersion)
      .strict()
      .strictOptions()
      .wrap(Math.min(110, process.stdout.columns || 100))
      .help()
  );
}

/**
 * The fix for a flag or argument yargs refused: the help of the command it was given to (each
 * command takes only its own flags and the global ones).
 */
export function usageHint(msg: string, argv: readonly string[]): string {
  if (!/^Unknown arguments?:/.test(msg)) return 'Run with --help to see the commands and flags.';
  const command = commandOf(argv, cliShape(buildCli));
  return command === '$0'
    ? 'The upgrade (no command) does not take it: run "kubectl nsm-upgrade --help" to see its flags and the commands.'
    : `"${command}" does not take it: run "kubectl nsm-upgrade ${command} --help" to see its flags.`;
}

/** Runs the CLI and returns the exit code; one top-level catch maps errors to exit codes. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  const cli = buildCli(argv).fail((msg, err) => {
    if (err) throw err;
    throw new UsageError(msg, usageHint(msg, argv));
  });
  try {
    await cli.parseAsync();
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (err) {
    // An error may quote a child's stderr or a value from the cluster: no known secret is printed.
    // Any error but the tool's own may be the API server's: only then is the kube client's report loaded.
    return (
      reportToolError(err, { out: (t) => io.out(scrub(t)), err: (t) => io.err(scrub(t)) }) ??
      (await import('./report-error.ts')).reportError(err, io)
    );
  }
}
