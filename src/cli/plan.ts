import type { Argv, CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const planCommand: CommandModule = {
  command: 'plan',
  describe: 'Print the upgrade plan (hops, strategy, steps, warnings) without changing anything',
  builder: (y: Argv) =>
    y
      .option('to', { type: 'string', describe: 'Target NSM version' })
      .example('$0 plan --to 2.0.0 -o yaml', 'The plan of a 1.6 -> 1.7 -> 2.0 upgrade, as YAML'),
  handler: () => notBuilt('plan', 'issue 5'),
};
