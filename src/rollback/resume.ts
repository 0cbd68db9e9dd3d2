/**
 * `rollback --resume` without trusting the directory, by the upgrade's rules (upgrade/resume.ts):
 * the directories and journals must be the user's and private; the command line may repeat the
 * rollback's options but not contradict them; binaries and the chart are found as a fresh
 * rollback finds them and must have the hashes the rollback journaled; the plan is built again by the same pure planner
 * from the upgrade's journal, the backup verified again and the journaled cluster facts, and a
 * plan that differs from the journaled one is refused (exit 2) with nothing run.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { readJournal } from '../engine/journal.ts';
import { checkOwnedPrivate, planDifference } from '../upgrade/resume.ts';
import { backupFacts } from './gather.ts';
import { rollbackJournalFile, type RollbackJournal } from './journal.ts';
import { buildRollbackPlan, rollbackHopIndex } from './plan.ts';
import { rollbackHelm, rollbackMeshctl, type RollbackArgs } from './inputs.ts';
import { resolveChartSource } from '../upgrade/plan-inputs.ts';
import { checkFoundBinaries } from '../engine/binary-digests.ts';
import { rollbackDir, type RollbackOptions, type RollbackPlan, type UpgradeRun } from './types.ts';

const differs = (flag: string, journaled: string) =>
  new UsageError(
    `${flag} contradicts the rollback being resumed, which has ${journaled}`,
    `Resume with the rollback's own options (or none of them): drop ${flag}.`,
  );

/**
 * The binaries and chart found as a fresh rollback finds them (flags, then PATH; --chart or the
 * default), never read from the rollback's journal; their hashes must be the ones it journaled.
 */
async function resumeBinaries(
  deps: Deps,
  j: RollbackJournal,
  run: UpgradeRun,
  a: RollbackArgs,
): Promise<{
  found: Pick<RollbackOptions, 'meshctlBinaries' | 'meshctlFound' | 'helm' | 'chart'>;
  journaledPath: Map<string, string>;
}> {
  const running = j.plan.from === 'none' ? undefined : j.plan.from;
  const meshctl =
    run.plan.method === 'meshctl' ? await rollbackMeshctl(deps, a, running, j.plan.to) : { binaries: {}, found: {} };
  const found = {
    meshctlBinaries: meshctl.binaries,
    meshctlFound: meshctl.found,
    helm: run.plan.method === 'helm' ? await rollbackHelm(deps, a) : undefined,
    chart: await resolveChartSource(deps, a.chart),
  };
  return { found, journaledPath: await checkFoundBinaries(deps.fs, j.binaries, found, 'the rollback') };
}

/** Checks the directories and journals and builds the rollback plan again. Throws UsageError (exit 2) before anything runs. */
export async function planForRollbackResume(
  deps: Deps,
  j: RollbackJournal,
  a: RollbackArgs,
): Promise<{ plan: RollbackPlan; options: RollbackOptions; run: UpgradeRun }> {
  const from = path.resolve(a.from);
  await checkOwnedPrivate(deps.fs, from, 'backup directory');
  await checkOwnedPrivate(deps.fs, rollbackDir(from), 'rollback directory');
  await checkOwnedPrivate(deps.fs, rollbackJournalFile(from), 'rollback journal');
  if (path.resolve(j.options.from) !== from)
    throw new UsageError(
      `the rollback journal in ${rollbackDir(from)} names another run directory, ${j.options.from}`,
      'The journal was moved or changed; resume from the directory the rollback printed.',
    );
  if (a.allHops && !j.options.allHops) throw differs('--all-hops', 'no --all-hops');
  if (a.force && !j.options.force) throw differs('--force', 'no --force');
  const run = await readJournal(deps.fs, from);
  if (run.runId !== j.upgradeRunId)
    throw new UsageError(
      `the upgrade journal in ${from} is not the one the rollback was planned from (run ${run.runId}, the rollback journal names ${j.upgradeRunId})`,
      'The upgrade was resumed or its journal changed since; nothing was run. Check the cluster (kubectl nsm-upgrade status).',
    );
  const hop = rollbackHopIndex(run, j.options.allHops);
  const backup = hop === undefined ? undefined : (await backupFacts(deps, run, from, hop)).facts;
  const { found, journaledPath } = await resumeBinaries(deps, j, run, a);
  const options: RollbackOptions = { ...j.options, ...found, from };
  const plan = buildRollbackPlan({ run, backup, live: j.live }, options);
  const diff = planDifference(j.plan, plan, journaledPath);
  if (diff || plan.rollback.path !== j.plan.rollback?.path) {
    throw new UsageError(
      `the journaled rollback plan is not the plan its own inputs give (${diff ?? `path ${plan.rollback.path}, journaled ${j.plan.rollback?.path}`})`,
      'The journal or the backup was changed, or written by another version of the tool; nothing was run. Check the cluster (kubectl nsm-upgrade status).',
    );
  }
  return { plan, options, run };
}
