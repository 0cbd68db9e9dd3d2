import fs from 'node:fs/promises';
import type { WalkSettings } from '../engine/option-groups.ts';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { PreflightError, UsageError } from '../errors.ts';
import { assertPreflight } from '../preflight/preflight.ts';
import { withChildKubeconfig } from '../engine/child-kubeconfig.ts';
import { installedNow } from '../mesh/live-state.ts';
import type { RunResult } from '../engine/walk.ts';
import type { Install } from '../engine/types.ts';
import { rollbackResumeCommand, runRollback } from '../rollback/run.ts';
import { rollbackDir, type RollbackPlan } from '../rollback/types.ts';
import { readRollbackJournal } from '../rollback/journal.ts';
import { createDeps } from './context.ts';
import { parseConcurrency, parseDuration, parseMaxFailures, parseWorkloadFlag } from './options.ts';
import type { RollbackCommandArgs } from './rollback-options.ts';
import { formatRollbackPlan } from './rollback-format.ts';
import { startRollbackFresh, startRollbackResume, type RollbackStart } from './rollback-start.ts';
import { installRunSignals, type RunSignals } from '../engine/signals.ts';
import { confirmOrStop } from './confirm.ts';
import { runFlow, walkSummary } from '../engine/flow.ts';
import { contextFor } from './run-context.ts';
import type { RunGuard } from '../engine/step-context.ts';
import type { Gate } from '../engine/gates.ts';
import type { RollbackArgs } from '../rollback/inputs.ts';

/** Losses refuse the rollback (exit 3, nothing changed) unless --force passes every one of them. */
export function assertNoLoss(plan: RollbackPlan): void {
  const r = plan.rollback;
  if (r.losses.length === 0 || r.forced) return;
  throw new PreflightError(
    r.losses.map((l) => ({ check: `rollback would lose (${l.id})`, message: l.message, fix: l.fix })),
  );
}

/** The install preflight checks: the one running now, or (mesh removed) the run's. */
async function liveInstall(deps: Deps, start: RollbackStart): Promise<Install> {
  return (
    (await installedNow(deps, start.plan.namespace, start.plan.release)) ?? {
      ...start.run.install,
      releaseStuck: false,
    }
  );
}

export interface RollbackRunArgs extends WalkSettings {
  format: 'text' | 'json';
  failedStep?: string | undefined;
}

/**
 * Runs a started rollback; `before` are the gates (confirmation, Lease) shown first, none when the
 * caller holds the Lease. `deps` writes only under the lease (fenced-kube.ts); `guard` checks it and
 * the cluster before each change.
 */
export function runStartedRollback(
  deps: Deps,
  start: RollbackStart,
  a: RollbackRunArgs,
  run: { runId: string; signal: AbortSignal; guard: RunGuard },
  before: readonly Gate[] = [],
): Promise<RunResult> {
  return withChildKubeconfig(deps, start.plan, () =>
    runRollback(deps, start.plan, {
      timeoutMs: a.timeoutMs,
      concurrency: a.concurrency,
      restart: a.restart,
      deleteBarePods: a.deleteBarePods,
      maxFailures: a.maxFailures,
      first: a.first,
      output: a.format,
      start: {
        options: start.options,
        live: start.live,
        cluster: start.cluster,
        ...(a.failedStep ? { failedStep: a.failedStep } : {}),
      },
      runId: run.runId,
      resume: start.resume,
      emit: (l) => process.stdout.write(l + '\n'),
      signal: run.signal,
      guard: run.guard,
      before,
    }),
  );
}

export function rollbackSummary(plan: RollbackPlan, r: RunResult): string {
  return (
    walkSummary(`Rolled back NSM ${plan.from} -> ${plan.to}`, r, `Journal: ${rollbackDir(plan.rollback.source)}`).join(
      '\n',
    ) + '\n'
  );
}

/** The preflight of a started rollback, as the first task of the list. */
export function rollbackPreflight(deps: Deps, start: RollbackStart): Gate {
  // A rollback of a failed or killed run starts from a broken mesh: the control-plane and release
  // checks (and the binaries' dry runs) describe what the rollback repairs, so only a rollback of a
  // finished run makes them.
  const broken = Boolean(start.resume) || !start.run.finished;
  return {
    id: 'preflight',
    title: broken
      ? 'Preflight (the mesh is half-way: control plane, release and dry-run checks are left to the steps)'
      : 'Preflight: API, permissions, binaries and their flags, charts, release, control plane, cluster',
    run: async () => {
      await withChildKubeconfig(deps, start.plan, async () =>
        assertPreflight(deps, {
          plan: start.plan,
          install: await liveInstall(deps, start),
          backupDir: rollbackDir(start.plan.rollback.source),
          resume: broken,
          rollback: true,
        }),
      );
      return 'passed';
    },
  };
}

export interface RollbackFlowArgs extends RollbackArgs, RollbackRunArgs {
  resume: boolean;
  dryRun: boolean;
  yes: boolean;
  breakLock: boolean;
}

/**
 * The rollback command: start (fresh or resumed), losses, preflight, confirmation, Lease, run. Also
 * what `--resume DIR` of an upgrade that is being rolled back runs (with the upgrade's signal rules).
 */
export async function rollbackFlow(deps: Deps, a: RollbackFlowArgs, given?: RunSignals): Promise<void> {
  const signals = given ?? installRunSignals(deps, 'the rollback');
  try {
    await rollbackUnderSignals(deps, a, signals);
  } finally {
    if (!given) signals.dispose();
  }
}

async function rollbackUnderSignals(deps: Deps, a: RollbackFlowArgs, signals: RunSignals): Promise<void> {
  const start = a.resume ? await startRollbackResume(deps, a) : await startRollbackFresh(deps, a);
  if (!start) return;
  const { plan } = start;
  const from = plan.rollback.source;
  await runFlow({
    deps,
    signals,
    plan,
    format: a.format,
    dryRun: a.dryRun,
    yes: a.yes,
    breakLock: a.breakLock,
    operation: 'rollback',
    dir: from,
    resumeCommand: rollbackResumeCommand(from),
    resumeRunId: start.resume?.runId ?? start.run.runId,
    cluster: start.cluster,
    write: { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
    formatPlan: (f) => formatRollbackPlan(plan, f),
    showPlan: 'before-preflight',
    checkPlan: () => assertNoLoss(plan),
    preflight: rollbackPreflight(deps, start),
    confirm: () =>
      confirmOrStop(
        a.yes,
        `${start.resume ? 'Resume rolling back' : 'Roll back'} NSM ${plan.from} -> ${plan.to} in namespace "${plan.namespace}"`,
        'the rollback deletes or replaces parts of the mesh',
        'kubectl nsm-upgrade rollback --from DIR --dry-run',
      ),
    walk: (run) => runStartedRollback(run.deps, start, a, run, run.before),
    summary: (r) => rollbackSummary(plan, r),
    notConverged: (n) => `the rollback finished, but ${n} item(s) are not as before the upgrade (listed above)`,
  });
}

/** The `rollback` command. */
export async function runRollbackCommand(argv: RollbackCommandArgs, format: 'text' | 'json'): Promise<void> {
  const timeoutMs = parseDuration(argv.timeout);
  const concurrency = parseConcurrency(argv.concurrency);
  // The context is settled once: --context, else the one the upgrade run was pinned to.
  const deps = await createDeps({ ...argv, context: await contextFor(fs, argv.context, path.resolve(argv.from)) });
  await rollbackFlow(deps, {
    from: path.resolve(argv.from),
    allHops: argv.allHops,
    force: argv.force,
    meshctl: argv.meshctl,
    meshctlCurrent: argv.meshctlCurrent,
    helm: argv.helm,
    chart: argv.chart,
    timeout: argv.timeout,
    kubeconfig: argv.kubeconfig,
    context: argv.context,
    pathEnv: process.env.PATH,
    resume: argv.resume,
    dryRun: argv.dryRun,
    yes: argv.yes,
    breakLock: argv.breakLock,
    timeoutMs,
    concurrency,
    restart: argv.restart,
    deleteBarePods: argv.deleteBarePods,
    maxFailures: parseMaxFailures(argv.maxFailures),
    first: parseWorkloadFlag(argv.first, '--first'),
    format,
  });
}

/**
 * `kubectl nsm-upgrade --resume DIR` of a run that is being rolled back: continues the rollback
 * (true). A run that was rolled back cannot be resumed as an upgrade (exit 2); false: no rollback
 * of that run was started, resume the upgrade.
 */
export async function resumeAsRollback(
  deps: Deps,
  a: Omit<RollbackFlowArgs, 'resume' | 'dryRun' | 'allHops' | 'force'> & { dryRun?: boolean | undefined },
  signals?: RunSignals,
): Promise<boolean> {
  const j = await readRollbackJournal(deps.fs, a.from);
  if (!j) return false;
  if (j.finished) {
    throw new UsageError(
      `the run in ${a.from} was rolled back${j.failedStep ? ` after step ${j.failedStep} failed` : ''}: there is no upgrade to resume`,
      'Start a new upgrade with --to VERSION and a new --backup-dir.',
    );
  }
  deps.log.info(
    `The run in ${a.from} was being rolled back${j.failedStep ? ` after step ${j.failedStep} failed` : ''}: resuming the rollback.`,
  );
  await rollbackFlow(
    deps,
    { ...a, resume: true, dryRun: a.dryRun ?? false, allHops: j.options.allHops, force: j.options.force },
    signals,
  );
  return true;
}
