import type { Argv, CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const restoreCommand: CommandModule = {
  command: 'restore',
  describe: 'Verify a backup directory and re-create its resources, then check every object against the backup',
  builder: (y: Argv) =>
    y
      .option('from', { type: 'string', demandOption: true, describe: 'Backup directory written by `backup` or an upgrade' })
      .option('on-conflict', { choices: ['skip', 'overwrite', 'fail'] as const, default: 'skip' as const, describe: 'When an object already exists: keep it (reporting differences), replace it, or stop' })
      .example('$0 restore --from ./nsm-backup --dry-run', 'Server-side dry run: show schema rejections before writing')
      .example('$0 restore --from ./nsm-backup --on-conflict overwrite', 'Make every object equal to the backup'),
  handler: () => notBuilt('restore', 'issue 4'),
};
