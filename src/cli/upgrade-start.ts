/**
 * Where an upgrade run starts from: a fresh plan (detect, gather inputs, plan) or a journal
 * (--resume DIR: the plan built again from the journal's inputs and checked, resume.ts). Both give
 * the same thing to the one path that follows (preflight, confirmation, lease, run).
 */
import type {
  BinaryOptions,
  ClusterOptions,
  InstallLocation,
  StepTimeout,
  UpgradeChoices,
} from '../engine/option-groups.ts';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { detectAndPlan } from '../upgrade/detect-plan.ts';
import { readJournal, type ClusterIdentity, type JournalState } from '../engine/journal.ts';
import { planForResume } from '../upgrade/resume.ts';
import { assertSameCluster, clusterIdentity } from '../engine/cluster-identity.ts';
import type { Install, Plan, PlanOptions } from '../engine/types.ts';
import { formatPlan } from './plan-format.ts';
import { checkRunDir } from '../backup/private-files.ts';

/** The upgrade's command line: a fresh run (--to) or a resumed one (--resume DIR). */
export interface StartArgs
  extends Omit<UpgradeChoices, 'to'>, BinaryOptions, ClusterOptions, StepTimeout, InstallLocation {
  to?: string | undefined;
  resume?: string | undefined;
  backupDir: string;
}

export interface Start {
  plan: Plan;
  install: Install;
  inputs: PlanOptions;
  cluster: ClusterIdentity;
  /** The journal being resumed. */
  resume?: JournalState | undefined;
}

/** Detects the install and plans; refusals end here (exit 2, the plan printed). */
export async function startFresh(deps: Deps, a: StartArgs): Promise<Start> {
  await checkRunDir(deps.fs, a.backupDir);
  const { install, inputs, plan } = await detectAndPlan(deps, { ...a, to: a.to!, pathEnv: process.env.PATH });
  for (const w of install.warnings) deps.log.warn(w);
  if (plan.refusals.length) {
    process.stderr.write(formatPlan(plan, 'text'));
    throw new UsageError(
      `the plan is refused: ${plan.refusals.map((r) => r.message).join('; ')}`,
      plan.refusals.map((r) => `fix: ${r.fix}`).join('\n'),
    );
  }
  return { plan, install, inputs, cluster: await clusterIdentity(deps) };
}

/** Reads and checks the journal, builds its plan again, and checks that this is the run's cluster. Undefined: the run had finished. */
export async function startResume(deps: Deps, a: StartArgs & { resume: string }): Promise<Start | undefined> {
  const journal = await readJournal(deps.fs, a.resume);
  if (journal.finished) {
    process.stdout.write(`The run in ${path.resolve(a.resume)} already finished; nothing to resume.\n`);
    return undefined;
  }
  const { plan, install, inputs } = await planForResume(deps, journal, {
    ...a,
    dir: a.resume,
    pathEnv: process.env.PATH,
  });
  await assertSameCluster(deps, journal.cluster);
  deps.log.info(`Resuming NSM ${plan.from} -> ${plan.to}: ${journal.done.size} step(s) done before.`);
  return { plan, install, inputs, cluster: journal.cluster, resume: journal };
}
