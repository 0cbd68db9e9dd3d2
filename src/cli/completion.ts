import type { CommandModule } from 'yargs';
import { notBuilt } from './not-built.ts';

export const completionCommand: CommandModule = {
  command: 'completion',
  describe: 'Print a bash or zsh completion script',
  handler: () => notBuilt('completion', 'issue 8'),
};
