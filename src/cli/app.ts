import yargs from 'yargs';
import { backupCommand } from './backup.ts';
import { completionCommand } from './completion.ts';
import { fleetCommand } from './fleet.ts';
import { planCommand } from './plan.ts';
import { restartCommand } from './restart.ts';
import { restoreCommand } from './restore.ts';
import { rollbackCommand } from './rollback.ts';
import { statusCommand } from './status.ts';
import { upgradeCommand } from './upgrade.ts';
import { cliShape, commandOf } from './completion-engine.ts';
import { withGlobalOptions } from './options.ts';
import { ExitCode, PreflightError, ToolError, UsageError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { scrub } from '../secret.ts';
import { isRetryable, KubeApiError } from '../kube/client.ts';
import { InvalidNameError } from '../kube/paths.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export function buildCli(argv: string[]) {
  return withGlobalOptions(yargs(argv))
    .scriptName('kubectl nsm-upgrade')
    .usage('$0 [command] [flags]\n\nUpgrades NGINX Service Mesh without losing a traffic policy: backs up the SMI and NGINX\ncustom resources, upgrades the control plane one minor version at a time (in place, or\nremove and redeploy), restores the resources, re-rolls injected workloads and verifies\nthat every sidecar runs the new version.')
    .command(upgradeCommand)
    .command(planCommand)
    .command(backupCommand)
    .command(restoreCommand)
    .command(statusCommand)
    .command(restartCommand)
    .command(fleetCommand(buildCli))
    .command(rollbackCommand)
    .command(completionCommand(buildCli))
    .epilogue('Exit codes: 0 done; 1 failed; 2 bad usage or input; 3 refused by preflight (nothing changed); 4 finished but not converged.')
    .version(toolVersion)
    .strict()
    .strictOptions()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .help();
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
    return reportError(err, io);
  }
}

export function reportError(err: unknown, raw: Io): number {
  // An error may quote a child's stderr or a value from the cluster: no known secret is printed.
  const io: Io = { out: (t) => raw.out(scrub(t)), err: (t) => raw.err(scrub(t)) };
  if (err instanceof PreflightError) {
    io.err(`error: ${err.message}\n`);
    for (const f of err.failures) io.err(`  - ${f.check}: ${f.message}\n    fix: ${f.fix}\n`);
    return err.exitCode;
  }
  if (err instanceof ToolError) {
    io.err(`error: ${err.message}\n`);
    if (err.hint) io.err(`${err.hint}\n`);
    return err.exitCode;
  }
  if (err instanceof InvalidNameError) {
    io.err(`error: ${err.message}\n`);
    return ExitCode.usage;
  }
  if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
    // The server's message names the verb, resource and user ("pods is forbidden: User x cannot list ...").
    io.err(`error: the API server refused ${err.path}: ${(err.body as { message?: string } | undefined)?.message ?? err.message}\n`);
    io.err(err.status === 401
      ? 'The credentials of the kubeconfig context are not accepted: log in again or pick another --context.\n'
      : 'Your credentials lack that permission. The permissions the tool needs, with the reason for each, are in manifests/rbac/clusterrole.yaml.\n');
    return ExitCode.failed;
  }
  if (err instanceof KubeApiError || isRetryable(err)) {
    // The API kept failing after the client's bounded retries: say so without a stack trace.
    io.err(`error: the API request kept failing after retries: ${(err as Error).message}\n`);
    io.err('Check that the cluster is reachable (kubectl get --raw /readyz), then run again.\n');
    return ExitCode.failed;
  }
  io.err(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  return ExitCode.failed;
}
