import type { ArgumentsCamelCase } from 'yargs';
import type { RestartMode } from '../workloads/index.ts';
import { withExamples } from './define.ts';
import { withRestartOptions, withRunOptions, type Declared, type GlobalArgv } from './options.ts';

const restartModes: readonly RestartMode[] = ['behind', 'all'];

/** `restart`'s flags (static: --help and completion read them without loading the command). */
export const restartOptions = (y: GlobalArgv) =>
  withRestartOptions(
    withRunOptions(
      withExamples(y, [
        [
          '$0 restart --concurrency 4',
          'Restart the workloads behind: one first, then up to four at once as they succeed',
        ],
        ['$0 restart --restart all --timeout 5m -o json', 'Restart every injected workload, 5 minutes per workload'],
        [
          '$0 restart --first shop/deployment/cart --max-failures 3',
          'Start with shop/cart; stop starting new restarts after three failures',
        ],
        ['$0 restart', 'After a restart stopped at the failure gate: continue it (what it brought over is left alone)'],
        ['$0 restart --undo shop/deployment/cart', 'Put a workload whose restart failed back on its previous revision'],
      ]),
    ),
  )
    .option('restart', {
      choices: restartModes,
      default: 'behind' as const,
      describe: 'Only workloads with old sidecars, or every injected workload',
    })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      describe: 'Only injected workloads in this namespace (default: all namespaces)',
    })
    .option('delete-bare-pods', {
      type: 'boolean',
      default: false,
      describe:
        'Evict injected pods that have no controller (they are not re-created!); a PodDisruptionBudget that forbids it is respected',
    })
    .option('start-over', {
      type: 'boolean',
      default: false,
      describe: 'Do not continue a restart that stopped short: restart again what it already brought over',
    })
    .option('undo', {
      type: 'string',
      describe:
        'Put one workload (NAMESPACE/KIND/NAME) back on its previous revision, as kubectl rollout undo does, and wait for it',
    });

export type RestartArgs = ArgumentsCamelCase<Declared<typeof restartOptions>>;
