import type { ArgumentsCamelCase } from 'yargs';
import { withExamples } from './define.ts';
import { withRestartOptions, withRunOptions, type Declared, type GlobalArgv } from './options.ts';

/** `rollback`'s flags (static: --help and completion read them without loading the command). */
export const rollbackOptions = (y: GlobalArgv) =>
  withRestartOptions(
    withRunOptions(
      withExamples(y, [
        [
          '$0 rollback --from ./nsm-backup --dry-run',
          'Show how the last hop of that run would be rolled back, change nothing',
        ],
        ['$0 rollback --from ./nsm-backup --all-hops --yes', 'Back to the version before the whole run'],
        ['$0 rollback --from ./nsm-backup --resume', 'Continue an interrupted rollback'],
      ]),
    ),
  )
    .option('from', {
      type: 'string',
      demandOption: true,
      describe: 'The backup directory of the upgrade run to roll back (its journal and hop backups)',
    })
    .option('all-hops', {
      type: 'boolean',
      default: false,
      describe: 'Go back to the version before the whole run, not only before its last hop',
    })
    .option('resume', {
      type: 'boolean',
      default: false,
      describe: 'Continue an interrupted rollback of the run in --from',
    })
    .option('force', {
      type: 'boolean',
      default: false,
      describe: 'Roll back although it loses what the refusal names (never with a backup that fails verification)',
    })
    .option('meshctl', {
      type: 'string',
      array: true,
      describe:
        "The old version's nginx-meshctl (it deploys the old mesh), or a directory of binaries named by version",
    })
    .option('meshctl-current', {
      type: 'string',
      describe: "The running version's nginx-meshctl (it removes the mesh)",
    })
    .option('helm', { type: 'string', describe: "helm binary (Helm 3 or 4); default: the run's" })
    .option('chart', {
      type: 'string',
      describe: "Chart reference or directory for a Helm reinstall (default: the run's)",
    })
    .option('yes', {
      alias: 'y',
      type: 'boolean',
      default: false,
      describe: 'Do not ask before the first destructive step',
    })
    .option('restart', {
      choices: ['behind', 'all', 'none'] as const,
      default: 'behind' as const,
      describe: 'Which injected workloads to restart onto the old sidecars',
    })
    .option('delete-bare-pods', {
      type: 'boolean',
      default: false,
      describe: 'Delete injected pods that have no controller (they are NOT re-created)',
    })
    .option('break-lock', {
      type: 'boolean',
      default: false,
      describe: 'Take over the lease of an interrupted run that cannot be resumed',
    });

export type RollbackCommandArgs = ArgumentsCamelCase<Declared<typeof rollbackOptions>>;
