import type { ArgumentsCamelCase, Argv } from 'yargs';
import { withExamples } from './define.ts';
import { releaseOption, timeoutOption, type Declared, type GlobalArgv } from './options.ts';

/**
 * What the plan is made of, shared with the upgrade command (which plans the same way): the target,
 * how the mesh was installed and with which binaries and chart, deploy setting changes (which force
 * the manual path), the 2.0 namespace labels, and the backup directory the plan names.
 */
export function withPlanOptions<T>(y: Argv<T>) {
  return y
    .option('to', {
      type: 'string',
      describe: 'Target NSM version (e.g. 1.7.0); hops are planned one minor version at a time',
    })
    .option('method', {
      choices: ['auto', 'meshctl', 'helm'] as const,
      default: 'auto' as const,
      describe: 'How the mesh was installed (auto: detect from the Helm release)',
    })
    .option('strategy', {
      choices: ['auto', 'in-place', 'manual'] as const,
      default: 'auto' as const,
      describe: 'in-place upgrade, or manual remove-and-redeploy (auto: per hop, as the NSM docs require)',
    })
    .option('meshctl', {
      type: 'string',
      array: true,
      describe: "Target version's nginx-meshctl (once per hop), or a directory of binaries named by version",
    })
    .option('meshctl-current', {
      type: 'string',
      describe: "Installed version's nginx-meshctl, used to remove the mesh on the manual path",
    })
    .option('helm', { type: 'string', describe: 'helm binary (Helm 3 or 4)' })
    .option('release', releaseOption)
    .option('chart', {
      type: 'string',
      describe: 'Chart reference or directory for the helm path (default nginx-stable/nginx-service-mesh)',
    })
    .option('backup-dir', { type: 'string', describe: 'Where to write the backup (default ./nsm-backup-<time>)' })
    .option('deploy-flag', {
      type: 'string',
      array: true,
      describe:
        'Change a deploy setting, as nginx-meshctl deploy flag NAME=VALUE (e.g. mtls-mode=strict); forces the manual path on the last hop',
    })
    .option('label-namespaces', {
      type: 'boolean',
      default: false,
      describe:
        'On a hop to 2.0, add injector.nsm.nginx.com/auto-inject=enabled to namespaces with injected workloads first',
    })
    .option('clean-leftovers', {
      type: 'boolean',
      default: false,
      describe:
        'Clear what earlier removals left that a redeploy trips over (listed by plan), after the backup; without it the upgrade refuses them',
    });
}

/** `plan`'s flags (static: --help and completion read them without loading the command). */
export const planOptions = (y: GlobalArgv) =>
  withPlanOptions(
    withExamples(y, [
      ['$0 plan --to 2.0.0 -o yaml', 'The plan of a 1.6 -> 1.7 -> 2.0 upgrade, as YAML'],
      [
        '$0 plan --to 1.7.0 --meshctl ./bin',
        'Plan with the nginx-meshctl binaries in ./bin (nginx-meshctl-1.7.0 or 1.7.0/nginx-meshctl)',
      ],
    ]),
  ).option('timeout', timeoutOption);

export type PlanArgs = ArgumentsCamelCase<Declared<typeof planOptions>>;
