import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.ts';
import { completeWords, formatCobra } from './completion-engine.ts';
import { completionScript, detectShell, shells, type Shell } from './completion-scripts.ts';
import type { Declared, GlobalArgv, GlobalFlags } from './options.ts';

/**
 * `completion [bash|zsh]` prints a script for the standalone kubectl-nsm_upgrade command.
 * `completion __complete -- <words>` is the internal form the scripts and
 * bin/kubectl_complete-nsm_upgrade call: it prints the candidates in kubectl's plugin format.
 */
export const completeMarker = '__complete';

const completionOptions = (y: GlobalArgv) =>
  y
    .positional('shell', {
      type: 'string',
      describe: `bash or zsh (default: the shell you run it from, by $ZSH_NAME/$SHELL)`,
    })
    .parserConfiguration({ 'populate--': true })
    .example('source <($0 completion bash)', 'bash: add to ~/.bashrc')
    .example('source <($0 completion zsh)', 'zsh: add to ~/.zshrc, after compinit')
    .epilogue(
      'For `kubectl nsm-upgrade <TAB>` (kubectl 1.26+), put kubectl_complete-nsm_upgrade (shipped next to kubectl-nsm_upgrade) on your PATH; kubectl runs it.',
    );

/**
 * The command, given the function that builds the whole CLI (app.ts passes its buildCli): the
 * candidates come from that parser, and taking it as an argument keeps this module from
 * importing app.ts, which imports this one.
 */
export const completionCommand = (
  buildCli: (argv: string[]) => Argv,
): CommandModule<GlobalFlags, Declared<typeof completionOptions>> => ({
  command: 'completion [shell]',
  describe: 'Print a bash or zsh completion script',
  builder: completionOptions,
  handler: async (argv) => {
    const shell = argv.shell;
    if (shell === completeMarker) {
      const words = ((argv['--'] as unknown[] | undefined) ?? []).map(String);
      process.stdout.write(formatCobra(await completeWords(buildCli, words)));
      return;
    }
    if (shell !== undefined && !(shells as readonly string[]).includes(shell)) {
      throw new UsageError(`unknown shell "${shell}" for completion`, `Use "completion bash" or "completion zsh".`);
    }
    process.stdout.write(completionScript((shell as Shell | undefined) ?? detectShell(process.env)));
  },
});
