import type { Argv, CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const restartCommand: CommandModule = {
  command: 'restart',
  describe: 'Re-roll injected workloads until every sidecar runs the control plane version',
  builder: (y: Argv) =>
    y
      .option('restart', { choices: ['behind', 'all'] as const, default: 'behind' as const, describe: 'Only workloads with old sidecars, or every injected workload' })
      .option('delete-bare-pods', { type: 'boolean', default: false, describe: 'Delete injected pods that have no controller (they are not re-created!)' })
      .example('$0 restart --concurrency 4', 'Re-roll the workloads behind, four at a time'),
  handler: () => notBuilt('restart', 'issue 6'),
};
