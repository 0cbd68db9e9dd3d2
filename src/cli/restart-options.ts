import type { ArgumentsCamelCase } from 'yargs';
import type { RestartMode } from '../workloads/index.ts';
import { withExamples } from './define.ts';
import { withRunOptions, type Declared, type GlobalArgv } from './options.ts';

const restartModes: readonly RestartMode[] = ['behind', 'all'];

/** `restart`'s flags (static: --help and completion read them without loading the command). */
export const restartOptions = (y: GlobalArgv) =>
  withRunOptions(withExamples(y, [['$0 restart --concurrency 4', 'Re-roll the workloads behind, four at a time'], ['$0 restart --restart all --timeout 5m -o json', 'Re-roll every injected workload, 5 minutes per workload']]))
    .option('restart', { choices: restartModes, default: 'behind' as const, describe: 'Only workloads with old sidecars, or every injected workload' })
    .option('namespace', { alias: 'n', type: 'string', describe: 'Only injected workloads in this namespace (default: all namespaces)' })
    .option('delete-bare-pods', { type: 'boolean', default: false, describe: 'Delete injected pods that have no controller (they are not re-created!)' });

export type RestartArgs = ArgumentsCamelCase<Declared<typeof restartOptions>>;
