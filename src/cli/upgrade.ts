import type { Argv, CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const upgradeCommand: CommandModule = {
  command: '$0',
  describe: 'Upgrade the mesh to --to VERSION: back up, upgrade (in place or remove and redeploy), restore, re-roll, verify',
  builder: (y: Argv) =>
    y
      .option('to', { type: 'string', describe: 'Target NSM version (e.g. 1.7.0); hops are planned one minor version at a time' })
      .option('label-namespaces', { type: 'boolean', default: false, describe: 'On a hop to 2.0, add injector.nsm.nginx.com/auto-inject=enabled to namespaces with injected workloads first' })
      .option('restart', { choices: ['behind', 'all', 'none'] as const, default: 'behind' as const, describe: 'Which injected workloads to re-roll after the control plane is upgraded' })
      .example('$0 --to 1.7.0 --backup-dir ./nsm-backup', 'Upgrade to 1.7.0, keeping the backup in ./nsm-backup')
      .example('$0 --to 2.0.0 --dry-run', 'Show every step and command of a two-hop upgrade, change nothing')
      .example('$0 --resume ./nsm-backup', 'Continue a run that was interrupted'),
  handler: () => notBuilt('upgrade', 'issue 5'),
};
