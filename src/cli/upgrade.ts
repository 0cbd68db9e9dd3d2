import path from 'node:path';
import { randomUUID } from 'node:crypto';
import readline from 'node:readline/promises';
import type { Argv, CommandModule } from 'yargs';
import { NotConvergedError, UsageError } from '../errors.ts';
import { detectInstall } from '../mesh/detect.ts';
import { buildPlan } from '../upgrade/plan.ts';
import { gatherPlanInputs } from '../upgrade/plan-inputs.ts';
import { assertPreflight } from '../upgrade/preflight.ts';
import { readJournal } from '../upgrade/journal.ts';
import { retargetKubeconfig } from '../upgrade/retarget.ts';
import { acquireLease } from '../upgrade/lease.ts';
import { withChildKubeconfig } from '../upgrade/child-kubeconfig.ts';
import { resumeCommand, runPlan, type RunResult } from '../upgrade/run.ts';
import type { Plan } from '../upgrade/types.ts';
import { createDeps } from './context.ts';
import { outputFormat, parseConcurrency, parseDuration, type GlobalOptions } from './options.ts';
import { defaultBackupDir } from '../backup/write.ts';
import { withPlanOptions } from './plan.ts';
import { formatPlan } from './plan-format.ts';

interface UpgradeArgs extends GlobalOptions {
  to?: string | undefined;
  deployFlag?: string[] | undefined;
  labelNamespaces: boolean;
  restart: 'behind' | 'all' | 'none';
  deleteBarePods: boolean;
  breakLock: boolean;
}

async function confirm(plan: Plan, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new UsageError('the upgrade deletes or replaces parts of the mesh and needs confirmation, but stdin is not a terminal', 'Pass --yes to run without asking (after reading the plan: kubectl nsm-upgrade plan --to VERSION).');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Upgrade NSM ${plan.from} -> ${plan.to} in namespace "${plan.namespace}" (${plan.hops.length} hop(s)). Continue? (y/n) `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed; nothing was changed');
}

function summary(plan: Plan, r: RunResult, dir: string): string {
  const lines = [`NSM ${plan.from} -> ${plan.to}: ${r.stepsRun.length} step(s) run${r.stepsSkipped.length ? `, ${r.stepsSkipped.length} already done before` : ''}. Backup and journal: ${dir}`];
  for (const u of r.unresolved) {
    lines.push(`  ${u.step}: ${u.items.length} item(s) need attention`);
    for (const i of u.items.slice(0, 20)) lines.push(`    - ${i}`);
  }
  return lines.join('\n') + '\n';
}

export const upgradeCommand: CommandModule = {
  command: '$0',
  describe: 'Upgrade the mesh to --to VERSION: back up, upgrade (in place or remove and redeploy), restore, re-roll, verify',
  builder: (y: Argv) =>
    withPlanOptions(y)
      .option('restart', { choices: ['behind', 'all', 'none'] as const, default: 'behind' as const, describe: 'Which injected workloads to re-roll after the control plane is upgraded' })
      .option('break-lock', { type: 'boolean', default: false, describe: 'Take over the lease of an interrupted run that cannot be resumed (its backup directory is lost); never takes a lease a live run holds' })
      .option('delete-bare-pods', { type: 'boolean', default: false, describe: 'Delete injected pods that have no controller, so no old sidecar is left (they are NOT re-created: re-create them yourself)' })
      .example('$0 --to 1.7.0 --backup-dir ./nsm-backup', 'Upgrade to 1.7.0, keeping the backup in ./nsm-backup')
      .example('$0 --to 2.0.0 --dry-run', 'Show every step and command of a two-hop upgrade, change nothing')
      .example('$0 --resume ./nsm-backup', 'Continue a run that was interrupted'),
  handler: async (raw) => {
    const argv = raw as unknown as UpgradeArgs;
    const format = outputFormat(argv.output, ['text', 'json'] as const, 'text');
    const timeoutMs = parseDuration(argv.timeout);
    const concurrency = parseConcurrency(argv.concurrency);
    if (argv.to && argv.resume) throw new UsageError('--to and --resume do not go together: a resumed run keeps the plan it started with', 'Drop --to when you pass --resume DIR.');
    if (!argv.to && !argv.resume) throw new UsageError('nothing to do: no target version', 'Pass --to VERSION (see the plan first: kubectl nsm-upgrade plan --to VERSION), or --resume DIR.');
    const deps = await createDeps(argv);
    const resume = argv.resume ? await readJournal(deps.fs, argv.resume) : undefined;
    const backupDir = path.resolve(argv.resume ?? argv.backupDir ?? defaultBackupDir(new Date()));
    let plan: Plan;
    if (resume) {
      plan = retargetKubeconfig(resume.plan, argv.kubeconfig && path.resolve(argv.kubeconfig));
      if (resume.finished) { process.stdout.write(`The run in ${backupDir} already finished; nothing to resume.\n`); return; }
      deps.log.info(`Resuming NSM ${plan.from} -> ${plan.to}: ${resume.done.size} step(s) done before.`);
    } else {
      const install = await detectInstall(deps, { meshNamespace: argv.meshNamespace, method: argv.method, release: argv.release });
      for (const w of install.warnings) deps.log.warn(w);
      const inputs = await gatherPlanInputs(deps, install, {
        to: argv.to!, strategy: argv.strategy, meshctl: argv.meshctl, meshctlCurrent: argv.meshctlCurrent, helm: argv.helm, chart: argv.chart,
        backupDir, timeout: argv.timeout, kubeconfig: argv.kubeconfig && path.resolve(argv.kubeconfig), context: argv.context, deployFlag: argv.deployFlag, labelNamespaces: argv.labelNamespaces, pathEnv: process.env.PATH,
      });
      plan = buildPlan(install, inputs);
      if (plan.refusals.length) {
        process.stderr.write(formatPlan(plan, 'text'));
        throw new UsageError(`the plan is refused: ${plan.refusals.map((r) => r.message).join('; ')}`, plan.refusals.map((r) => `fix: ${r.fix}`).join('\n'));
      }
      if (argv.dryRun) {
        process.stdout.write(formatPlan(plan, format === 'json' ? 'json' : 'text'));
        deps.log.info('Dry run: nothing was changed.');
        return;
      }
      if (plan.hops.length === 0) { process.stdout.write(`NSM is already on ${plan.to}; nothing to do.\n`); return; }
      await withChildKubeconfig(deps, plan, () => assertPreflight(deps, { plan, install, backupDir }));
      if (format === 'text') process.stderr.write(formatPlan(plan, 'text'));
      await confirm(plan, argv.yes);
    }
    if (argv.dryRun) { process.stdout.write(formatPlan(plan, format === 'json' ? 'json' : 'text')); return; }

    const runId = randomUUID().slice(0, 8);
    const lease = await acquireLease(deps, { meshNamespace: plan.namespace, runId, resumeRunId: resume?.runId, backupDir, operation: 'upgrade', breakLock: argv.breakLock });
    const ac = new AbortController();
    lease.lost.addEventListener('abort', () => ac.abort(lease.lost.reason), { once: true });
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write(`\nInterrupted: stopping after the current step. Continue later with:\n  ${resumeCommand(backupDir)}\n(Ctrl-C again to stop at once.)\n`);
        ac.abort(new Error('interrupted'));
      } else {
        // At once, but cleanly: the running nginx-meshctl/helm (own process group) is stopped and
        // waited for, and the lease is released, so the resume is not refused. Exit 130.
        process.stderr.write(`\nStopping now. Continue with:\n  ${resumeCommand(backupDir)}\n`);
        setTimeout(() => process.exit(130), 15_000).unref();
        void deps.exec.stopAll(5_000).finally(() => lease.release()).finally(() => process.exit(130));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let result: RunResult;
    try {
      result = await withChildKubeconfig(deps, plan, () => runPlan(deps, plan, {
        backupDir, timeoutMs, concurrency, restart: argv.restart, deleteBarePods: argv.deleteBarePods, output: format,
        argv: process.argv.slice(2), runId, resume, emit: (l) => process.stdout.write(l + '\n'), signal: ac.signal,
      }));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await lease.release();
    }
    if (format === 'text') process.stdout.write(summary(plan, result, backupDir));
    if (result.unresolved.length) {
      throw new NotConvergedError(`the upgrade finished, but ${result.unresolved.reduce((n, u) => n + u.items.length, 0)} item(s) are not converged (listed above)`,
        'Fix them, then check with `kubectl nsm-upgrade status`; re-roll with `kubectl nsm-upgrade restart`.');
    }
  },
};
