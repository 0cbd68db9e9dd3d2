import type { ArgumentsCamelCase } from 'yargs';
import type { OnConflict } from '../backup/apply.ts';
import { withExamples } from './define.ts';
import { withRunOptions, type Declared, type GlobalArgv } from './options.ts';

const onConflictChoices: readonly OnConflict[] = ['skip', 'overwrite', 'fail'];

/** `restore`'s flags (static: --help and completion read them without loading the command). */
export const restoreOptions = (y: GlobalArgv) =>
  withRunOptions(
    withExamples(y, [
      ['$0 restore --from ./nsm-backup --dry-run', 'Server-side dry run: show schema rejections before writing'],
      ['$0 restore --from ./nsm-backup --on-conflict overwrite', 'Make every object equal to the backup'],
    ]),
  )
    .option('from', {
      type: 'string',
      demandOption: true,
      describe: 'Backup directory written by `backup` or an upgrade',
    })
    .option('on-conflict', {
      choices: onConflictChoices,
      default: 'skip' as const,
      describe: 'When an object already exists: keep it (reporting differences), replace it, or stop',
    })
    .option('to-version', {
      type: 'string',
      describe: "Mesh version restored into (selects version transforms; default: decided by each object's shape)",
    });

export type RestoreArgs = ArgumentsCamelCase<Declared<typeof restoreOptions>>;
