import type { Argv, CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const statusCommand: CommandModule = {
  command: 'status',
  describe: 'Control-plane version and health, and every injected workload by sidecar version (exit 4 when behind)',
  builder: (y: Argv) => y.example('$0 status -o json', 'The skew report as JSON'),
  handler: () => notBuilt('status', 'issue 6'),
};
