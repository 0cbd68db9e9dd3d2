import type { ArgumentsCamelCase } from 'yargs';
import { withRestartOptions, withRunOptions, type Declared, type GlobalArgv } from './options.ts';
import { withPlanOptions } from './plan-options.ts';

/** The upgrade's flags: the plan's, the run's (--timeout, --concurrency, --dry-run), and its own. */
export const upgradeOptions = (y: GlobalArgv) =>
  withRestartOptions(withRunOptions(withPlanOptions(y)))
    .option('resume', { type: 'string', describe: 'Resume a killed run from its backup directory journal' })
    .option('yes', {
      alias: 'y',
      type: 'boolean',
      default: false,
      describe: 'Do not ask before the first destructive step',
    })
    .option('restart', {
      choices: ['behind', 'all', 'none'] as const,
      default: 'behind' as const,
      describe: 'Which injected workloads to restart after the control plane is upgraded',
    })
    .option('break-lock', {
      type: 'boolean',
      default: false,
      describe:
        'Take over the lease of an interrupted run that cannot be resumed (its backup directory is lost); never takes a lease a live run holds',
    })
    .option('on-failure', {
      choices: ['stop', 'rollback'] as const,
      default: 'stop' as const,
      describe:
        'When a step fails after the hop began changing the mesh: stop (resume or roll back later), or roll the hop back at once and exit 1',
    })
    .option('accept-pruning', {
      type: 'boolean',
      default: false,
      describe:
        "Accept that the objects preflight lists lose the fields a target's CRD schema does not have (objects a target rejects still refuse the run)",
    })
    .option('delete-foreign-objects', {
      type: 'boolean',
      default: false,
      describe:
        "Accept that the manual nginx-meshctl path deletes the objects preflight lists in the mesh namespace that are not the mesh's (removal deletes the namespace); an object with another controller's finalizer still refuses the run",
    })
    .option('require-images', {
      type: 'boolean',
      default: false,
      describe:
        "Refuse the run when a registry of the target's images cannot be reached from this machine (by default that is a warning: the nodes may reach it)",
    })
    .option('registry-ca', {
      type: 'string',
      array: true,
      describe: "PEM file of a CA to trust for the image registries (added to the system's), for the image check",
    })
    .option('prepull', {
      type: 'boolean',
      default: false,
      describe:
        "Before the first destructive step, pull the target's control-plane and sidecar images on every node (a DaemonSet, removed after); refuse when a node cannot",
    })
    .option('delete-bare-pods', {
      type: 'boolean',
      default: false,
      describe:
        'Delete injected pods that have no controller, so no old sidecar is left (they are NOT re-created: re-create them yourself)',
    })
    .example('$0 --to 1.7.0 --backup-dir ./nsm-backup', 'Upgrade to 1.7.0, keeping the backup in ./nsm-backup')
    .example('$0 --to 2.0.0 --dry-run', 'Show every step and command of a two-hop upgrade, change nothing')
    .example('$0 --resume ./nsm-backup', 'Continue a run that was interrupted');

export type UpgradeArgs = ArgumentsCamelCase<Declared<typeof upgradeOptions>>;
