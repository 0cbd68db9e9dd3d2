import type { ArgumentsCamelCase } from 'yargs';
import { withExamples } from './define.ts';
import { concurrencyOption, releaseOption, type Declared, type GlobalArgv } from './options.ts';

/** `backup`'s flags (static: --help and completion read them without loading the command). */
export const backupOptions = (y: GlobalArgv) =>
  withExamples(y, [
    ['$0 backup --dir ./nsm-backup', 'Back up every namespace into ./nsm-backup'],
    ['$0 backup -n shop --dir ./shop-backup', 'Back up one namespace'],
  ])
    .option('dir', {
      type: 'string',
      describe:
        'Backup directory, created 0700 (default ./nsm-backup-<time>); when it exists already, the backup goes into a new nsm-backup-<time> inside it',
    })
    .option('all-namespaces', { alias: 'A', type: 'boolean', default: true, describe: 'All namespaces (the default)' })
    .option('namespace', { alias: 'n', type: 'string', describe: 'Only this namespace' })
    .option('release', {
      ...releaseOption,
      describe: 'Helm release whose values go into install.yaml (default: the newest in the mesh namespace)',
    })
    .option('concurrency', concurrencyOption);

export type BackupArgs = ArgumentsCamelCase<Declared<typeof backupOptions>>;
