import { defaultBackupDir } from '../backup/write.ts';
import { UsageError } from '../errors.ts';
import { detectAndPlan } from '../upgrade/detect-plan.ts';
import { createDeps } from './context.ts';
import { parseDuration } from './options.ts';
import type { PlanArgs } from './plan-options.ts';
import { formatPlan } from './plan-format.ts';

export async function runPlanCommand(argv: PlanArgs, format: 'text' | 'json' | 'yaml'): Promise<void> {
  if (!argv.to) throw new UsageError('plan needs a target version', 'Pass --to VERSION, e.g. --to 1.7.0.');
  parseDuration(argv.timeout);
  const deps = await createDeps(argv);
  const { plan } = await detectAndPlan(deps, {
    ...argv,
    to: argv.to,
    backupDir: argv.backupDir ?? defaultBackupDir(new Date()),
    pathEnv: process.env.PATH,
  });
  process.stdout.write(formatPlan(plan, format));
  if (plan.refusals.length) {
    throw new UsageError(
      `the plan is refused (${plan.refusals.length} problem${plan.refusals.length === 1 ? '' : 's'}): ${plan.refusals.map((r) => r.message).join('; ')}`,
      plan.refusals.map((r) => `fix: ${r.fix}`).join('\n'),
    );
  }
}
