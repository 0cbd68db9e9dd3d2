import type { Argv, CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const backupCommand: CommandModule = {
  command: 'backup',
  describe: "Back up the mesh's SMI and NGINX custom resources, CRDs and install configuration to a verified directory",
  builder: (y: Argv) =>
    y
      .option('dir', { type: 'string', describe: 'Backup directory (created 0700; default ./nsm-backup-<time>)' })
      .option('all-namespaces', { alias: 'A', type: 'boolean', default: true, describe: 'All namespaces (the default)' })
      .option('namespace', { alias: 'n', type: 'string', describe: 'Only this namespace' })
      .example('$0 backup --dir ./nsm-backup', 'Back up every namespace into ./nsm-backup')
      .example('$0 backup -n shop --dir ./shop-backup', 'Back up one namespace'),
  handler: () => notBuilt('backup', 'issue 4'),
};
