/**
 * Where a rollback starts from: a fresh plan (the upgrade run's journal, its backup verified, the
 * cluster read, the pure planner) or the rollback's own journal (--resume: the plan built again and
 * compared, rollback/resume.ts). Both give the same thing to the one path that follows (losses,
 * preflight, confirmation, lease, run: rollback.ts).
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { readJournal, type ClusterIdentity } from '../engine/journal.ts';
import { checkOwnedPrivate } from '../upgrade/resume.ts';
import { assertSameCluster } from '../engine/cluster-identity.ts';
import { gatherFacts } from '../rollback/gather.ts';
import { rollbackOptions, type RollbackArgs } from '../rollback/inputs.ts';
import { readRollbackJournal, type RollbackJournal } from '../rollback/journal.ts';
import { buildRollbackPlan } from '../rollback/plan.ts';
import { planForRollbackResume } from '../rollback/resume.ts';
import {
  rollbackDir,
  type LiveFacts,
  type RollbackOptions,
  type RollbackPlan,
  type UpgradeRun,
} from '../rollback/types.ts';
import { formatRollbackPlan } from './rollback-format.ts';

export interface RollbackStart {
  plan: RollbackPlan;
  options: RollbackOptions;
  live: LiveFacts;
  cluster: ClusterIdentity;
  run: UpgradeRun;
  /** The rollback journal being resumed. */
  resume?: RollbackJournal | undefined;
}

/** Refusals (bad input) end here: the plan printed, exit 2. */
function refuseBadInput(plan: RollbackPlan): void {
  if (!plan.refusals.length) return;
  process.stderr.write(formatRollbackPlan(plan, 'text'));
  throw new UsageError(
    `the rollback is refused: ${plan.refusals.map((r) => r.message).join('; ')}`,
    plan.refusals.map((r) => `fix: ${r.fix}`).join('\n'),
  );
}

export async function startRollbackFresh(deps: Deps, a: RollbackArgs): Promise<RollbackStart> {
  const from = path.resolve(a.from);
  try {
    await deps.fs.stat(path.join(from, 'journal.ndjson'));
  } catch {
    throw new UsageError(
      `no upgrade journal in ${from}`,
      'Pass --from the backup directory of the upgrade run to roll back (the one it printed; --backup-dir).',
    );
  }
  await checkOwnedPrivate(deps.fs, from, 'backup directory');
  const run = await readJournal(deps.fs, from);
  const earlier = await readRollbackJournal(deps.fs, from);
  if (earlier) {
    throw new UsageError(
      earlier.finished
        ? `the run in ${from} was already rolled back (${rollbackDir(from)})`
        : `a rollback of the run in ${from} was started and did not finish`,
      earlier.finished
        ? "Nothing to do. To go back further, roll back an earlier run's directory."
        : `Continue it: kubectl nsm-upgrade rollback --from ${from} --resume`,
    );
  }
  await assertSameCluster(deps, run.cluster);
  const facts = await gatherFacts(deps, run, from, a.allHops);
  const target = facts.backup ? run.plan.hops.find((h) => h.index === facts.backup!.hop)!.from : run.plan.from;
  const options = await rollbackOptions(deps, run, a, facts.live.version, target);
  const plan = buildRollbackPlan(facts, options);
  refuseBadInput(plan);
  return { plan, options, live: facts.live, cluster: run.cluster, run };
}

/** Undefined: the rollback had finished. */
export async function startRollbackResume(deps: Deps, a: RollbackArgs): Promise<RollbackStart | undefined> {
  const from = path.resolve(a.from);
  const j = await readRollbackJournal(deps.fs, from);
  if (!j)
    throw new UsageError(
      `no rollback was started from ${from} (no ${rollbackDir(from)}/journal.ndjson)`,
      `Start it: kubectl nsm-upgrade rollback --from ${from}`,
    );
  if (j.finished) {
    process.stdout.write(`The rollback in ${rollbackDir(from)} already finished; nothing to resume.\n`);
    return undefined;
  }
  const { plan, options, run } = await planForRollbackResume(deps, j, a);
  refuseBadInput(plan);
  await assertSameCluster(deps, j.cluster);
  deps.log.info(`Resuming the rollback NSM ${plan.from} -> ${plan.to}: ${j.done.size} step(s) done before.`);
  return { plan, options, live: j.live, cluster: j.cluster, run, resume: j };
}
