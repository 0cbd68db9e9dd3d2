import type { Argv, CommandModule } from 'yargs';
import { defaultBackupDir } from '../backup/write.ts';
import { UsageError } from '../errors.ts';
import { detectInstall } from '../mesh/detect.ts';
import { buildPlan } from '../upgrade/plan.ts';
import { gatherPlanInputs } from '../upgrade/plan-inputs.ts';
import { createDeps } from './context.ts';
import { outputFormat, parseDuration, type GlobalOptions } from './options.ts';
import { formatPlan } from './plan-format.ts';

interface PlanCommandArgs extends GlobalOptions {
  to?: string | undefined;
  deployFlag?: string[] | undefined;
  labelNamespaces: boolean;
}

/**
 * Options the plan shares with the upgrade command (which the lead wires the same way): the
 * target, deploy setting changes (which force the manual path), and the 2.0 namespace labels.
 */
export function withPlanOptions<T>(y: Argv<T>) {
  return y
    .option('to', { type: 'string', describe: 'Target NSM version (e.g. 1.7.0); hops are planned one minor version at a time' })
    .option('deploy-flag', { type: 'string', array: true, describe: 'Change a deploy setting, as nginx-meshctl deploy flag NAME=VALUE (e.g. mtls-mode=strict); forces the manual path on the last hop' })
    .option('label-namespaces', { type: 'boolean', default: false, describe: 'On a hop to 2.0, add injector.nsm.nginx.com/auto-inject=enabled to namespaces with injected workloads first' });
}

export const planCommand: CommandModule = {
  command: 'plan',
  describe: 'Print the upgrade plan (hops, strategy, steps, warnings) without changing anything',
  builder: (y: Argv) =>
    withPlanOptions(y)
      .example('$0 plan --to 2.0.0 -o yaml', 'The plan of a 1.6 -> 1.7 -> 2.0 upgrade, as YAML')
      .example('$0 plan --to 1.7.0 --meshctl ./bin', 'Plan with the nginx-meshctl binaries in ./bin (nginx-meshctl-1.7.0 or 1.7.0/nginx-meshctl)'),
  handler: async (raw) => {
    const argv = raw as unknown as PlanCommandArgs;
    const format = outputFormat(argv.output, ['text', 'json', 'yaml'] as const, 'text');
    if (!argv.to) throw new UsageError('plan needs a target version', 'Pass --to VERSION, e.g. --to 1.7.0.');
    parseDuration(argv.timeout);
    const deps = await createDeps(argv);
    const install = await detectInstall(deps, { meshNamespace: argv.meshNamespace, method: argv.method, release: argv.release });
    const inputs = await gatherPlanInputs(deps, install, {
      to: argv.to, strategy: argv.strategy, meshctl: argv.meshctl, meshctlCurrent: argv.meshctlCurrent, helm: argv.helm, chart: argv.chart,
      backupDir: argv.backupDir ?? defaultBackupDir(new Date()), timeout: argv.timeout, kubeconfig: argv.kubeconfig, context: argv.context,
      deployFlag: argv.deployFlag, labelNamespaces: argv.labelNamespaces, pathEnv: process.env.PATH,
    });
    const plan = buildPlan(install, inputs);
    process.stdout.write(formatPlan(plan, format));
    if (plan.refusals.length) {
      throw new UsageError(`the plan is refused (${plan.refusals.length} problem${plan.refusals.length === 1 ? '' : 's'}): ${plan.refusals.map((r) => r.message).join('; ')}`,
        plan.refusals.map((r) => `fix: ${r.fix}`).join('\n'));
    }
  },
};
