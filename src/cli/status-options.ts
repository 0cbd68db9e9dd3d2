import type { ArgumentsCamelCase } from 'yargs';
import { withExamples } from './define.ts';
import type { Declared, GlobalArgv } from './options.ts';

/** `status`'s flags (static: --help and completion read them without loading the command). */
export const statusOptions = (y: GlobalArgv) =>
  withExamples(y, [
    ['$0 status', 'Control plane and sidecar versions as a table'],
    ['$0 status -o json', 'The skew report as JSON'],
    [
      '$0 status --contexts staging,prod-eu,prod-us',
      'One table across three clusters (exit 4 when any is not converged)',
    ],
  ])
    .option('namespace', {
      alias: 'n',
      type: 'string',
      describe: 'Only injected workloads in this namespace (default: all namespaces)',
    })
    .option('contexts', {
      type: 'string',
      array: true,
      describe: 'Several clusters (kubeconfig contexts a,b,c): one row each, exit 4 when any is not converged',
    });

export type StatusArgs = ArgumentsCamelCase<Declared<typeof statusOptions>>;
