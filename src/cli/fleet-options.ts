import type { ArgumentsCamelCase, Argv } from 'yargs';
import { withExamples } from './define.ts';
import { releaseOption, type Declared, type GlobalArgv } from './options.ts';

/** Each cluster's defaults, as the plan's flags (a cluster's entry in the fleet file wins). */
function withClusterDefaults<T>(y: Argv<T>) {
  const every = ' (every cluster; its entry in --fleet FILE wins)';
  return y
    .option('method', { choices: ['auto', 'meshctl', 'helm'] as const, describe: `How the mesh was installed${every}` })
    .option('strategy', {
      choices: ['auto', 'in-place', 'manual'] as const,
      describe: `in-place, manual or auto per hop${every}`,
    })
    .option('meshctl', {
      type: 'string',
      array: true,
      describe: `Target version's nginx-meshctl, once per hop, or a directory of binaries${every}`,
    })
    .option('meshctl-current', { type: 'string', describe: `Installed version's nginx-meshctl${every}` })
    .option('helm', { type: 'string', describe: `helm binary${every}` })
    .option('release', { ...releaseOption, describe: `${releaseOption.describe}${every}` })
    .option('chart', { type: 'string', describe: `Chart reference or directory for the helm path${every}` });
}

/** `fleet`'s flags (static: --help and completion read them without loading the command). */
export const fleetOptions = (y: GlobalArgv) =>
  withClusterDefaults(
    withExamples(y, [
      [
        '$0 fleet --contexts staging,prod-eu,prod-us --to 2.0.0',
        'Plan all three, then upgrade staging alone, then prod-eu, then prod-us',
      ],
      [
        '$0 fleet --fleet fleet.yaml --max-parallel 2 --soak 30m',
        'The clusters of fleet.yaml; after the canary, wait 30 minutes and check it again; then two at a time',
      ],
      [
        '$0 fleet --contexts a,b --to 2.0.0 --dry-run',
        'Only the fleet plan: detect, plan and preflight every cluster, change nothing',
      ],
      ['$0 fleet --resume ./nsm-fleet-20260101T120000Z', 'Continue a fleet that stopped'],
    ])
      .option('contexts', {
        type: 'string',
        array: true,
        describe: 'The clusters, as kubeconfig contexts: a,b,c (the first is the canary)',
      })
      .option('fleet', {
        type: 'string',
        describe: 'A fleet file (YAML) listing the clusters and their settings (see docs/fleets.md)',
      })
      .option('to', { type: 'string', describe: 'Target NSM version for every cluster' })
      .option('canary', {
        type: 'string',
        describe: 'The cluster upgraded first, alone (default: the first that needs the upgrade)',
      })
      .option('max-parallel', {
        type: 'number',
        describe: 'After the canary, at most N clusters at a time (default 1)',
      })
      .option('soak', {
        type: 'string',
        describe: 'After the canary: wait this long (e.g. 30m), check it again, then go on',
      })
      .option('skip-refused', {
        type: 'boolean',
        describe: 'Leave out refused clusters instead of refusing the fleet (never the canary)',
      })
      .option('on-failure', {
        choices: ['stop', 'rollback'] as const,
        describe:
          "What a cluster's run does when it fails: stop (default) or roll its hop back (passed to its run as the upgrade's --on-failure)",
      })
      .option('backup-dir', {
        type: 'string',
        describe:
          "The fleet's directory: fleet.json and one backup/journal directory per cluster (default ./nsm-fleet-<time>)",
      })
      .option('resume', { type: 'string', describe: 'Continue the fleet of this directory where it stopped' })
      .option('timeout', { type: 'string', describe: "How long each step of a cluster's run may wait (default 10m)" })
      .option('label-namespaces', {
        type: 'boolean',
        describe: 'On a hop to 2.0, label namespaces with injected workloads first (every cluster)',
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Print the fleet plan (every cluster detected, planned and preflighted) and change nothing',
      })
      .option('yes', {
        alias: 'y',
        type: 'boolean',
        default: false,
        describe: 'Do not ask before the first cluster starts',
      }),
  );

export type FleetArgs = ArgumentsCamelCase<Declared<typeof fleetOptions>>;
