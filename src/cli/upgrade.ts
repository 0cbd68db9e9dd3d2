import fs from 'node:fs/promises';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { confirmOrStop } from './confirm.ts';
import { assertPreflight } from '../preflight/preflight.ts';
import { withChildKubeconfig } from '../engine/child-kubeconfig.ts';
import { resumeCommand, runPlan, type RunResult } from '../engine/walk.ts';
import { runFlow, walkSummary } from '../engine/flow.ts';
import type { Plan } from '../engine/types.ts';
import { installRunSignals, type RunSignals } from '../engine/signals.ts';
import { createDeps } from './context.ts';
import { parseRunControl, parseRestartSafety, type RunControl } from './options.ts';
import type { UpgradeArgs } from './upgrade-options.ts';
import { defaultBackupDir } from '../backup/write.ts';
import { formatPlan } from './plan-format.ts';
import { formatSettingsSummary } from './settings-format.ts';
import { startFresh, startResume } from './upgrade-start.ts';
import { contextFor } from './run-context.ts';
import { rollBackAfterFailure, withRollbackHint } from './rollback-on-failure.ts';
import { resumeAsRollback } from './rollback.ts';
import { imageCheckOptions, prepullGates } from './image-check-options.ts';

function summary(plan: Plan, r: RunResult, dir: string): string {
  return (
    [
      ...walkSummary(`NSM ${plan.from} -> ${plan.to}`, r, `Backup and journal: ${dir}`),
      ...formatSettingsSummary(plan.hops, r.unresolved),
    ].join('\n') + '\n'
  );
}

/** The upgrade (the default command): plan, preflight, confirmation, Lease, then the steps; or a resume. */
export async function runUpgradeCommand(argv: UpgradeArgs, format: 'text' | 'json'): Promise<void> {
  const control = parseRunControl(argv);
  if (!argv.to && !argv.resume)
    throw new UsageError(
      'nothing to do: no target version',
      'Pass --to VERSION (see the plan first: kubectl nsm-upgrade plan --to VERSION), or --resume DIR.',
    );
  const backupDir = path.resolve(argv.resume ?? argv.backupDir ?? defaultBackupDir(new Date()));
  // The context is settled here, once (a resume keeps its run's), and the kubeconfig read once: the
  // tool's client and every child command (a private kubeconfig of exactly it) stay on it to the end.
  const deps = await createDeps({ ...argv, context: await contextFor(fs, argv.context, argv.resume && backupDir) });
  const signals = installRunSignals(deps, argv.resume ? 'the resume' : 'the upgrade');
  try {
    await upgradeOrResume(deps, signals, argv, format, backupDir, control);
  } finally {
    signals.dispose();
  }
}

async function upgradeOrResume(
  deps: Deps,
  signals: RunSignals,
  argv: UpgradeArgs,
  format: 'text' | 'json',
  backupDir: string,
  control: RunControl,
): Promise<void> {
  const { timeoutMs, concurrency } = control;
  const safety = parseRestartSafety(argv);
  // One path for a fresh run and a resume: only where the plan comes from differs.
  const startArgs = { ...argv, backupDir, ...safety };
  // A rollback finds nginx-meshctl by each file's own version (never from the journal): every one given is offered.
  const meshctlGiven = {
    meshctl: [...(argv.meshctl ?? []), ...(argv.meshctlCurrent ? [argv.meshctlCurrent] : [])],
    meshctlCurrent: undefined,
  };
  // A run being rolled back (--on-failure rollback, or `rollback`) resumes as a rollback.
  if (
    argv.resume &&
    (await resumeAsRollback(
      deps,
      { ...startArgs, ...meshctlGiven, pathEnv: process.env.PATH, from: backupDir, format, timeoutMs, concurrency },
      signals,
    ))
  )
    return;
  const start = argv.resume
    ? await startResume(deps, { ...startArgs, resume: argv.resume })
    : await startFresh(deps, startArgs);
  if (!start) return;
  const { plan, install, resume } = start;
  await runFlow({
    deps,
    signals,
    plan,
    format,
    dryRun: argv.dryRun,
    yes: argv.yes,
    breakLock: argv.breakLock,
    operation: 'upgrade',
    dir: backupDir,
    resumeCommand: resumeCommand(backupDir),
    resumeRunId: resume?.runId,
    cluster: start.cluster,
    write: { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
    formatPlan: (f) => formatPlan(plan, f),
    showPlan: 'after-preflight',
    nothingToDo: `NSM is already on ${plan.to}; nothing to do.`,
    preflight: {
      id: 'preflight',
      title: resume
        ? 'Preflight again (the run is half-way: control plane, release and dry-run checks are left to the steps)'
        : 'Preflight: API, permissions, binaries and their flags, charts, release, control plane, backup directory, cluster',
      run: async () => {
        await withChildKubeconfig(deps, plan, () =>
          assertPreflight(deps, { plan, install, backupDir, resume: Boolean(resume), images: imageCheckOptions(argv) }),
        );
        return 'passed';
      },
    },
    confirm: () =>
      confirmOrStop(
        argv.yes,
        resume
          ? `Resume NSM ${plan.from} -> ${plan.to} in namespace "${plan.namespace}" (${resume.done.size} step(s) done before)`
          : `Upgrade NSM ${plan.from} -> ${plan.to} in namespace "${plan.namespace}" (${plan.hops.length} hop(s))`,
        'the upgrade deletes or replaces parts of the mesh',
        'kubectl nsm-upgrade plan --to VERSION',
      ),
    afterLease: (runDeps) => prepullGates(argv, runDeps, { plan, install, timeoutMs, signal: signals.abort.signal }),
    walk: (run) =>
      withChildKubeconfig(deps, plan, () =>
        runPlan(run.deps, plan, {
          backupDir,
          ...control,
          restart: argv.restart,
          deleteBarePods: argv.deleteBarePods,
          ...safety,
          output: run.output,
          emit: run.emit,
          start: { install: start.install, inputs: start.inputs, cluster: start.cluster },
          runId: run.runId,
          resume,
          signal: run.signal,
          guard: run.guard,
          before: run.before,
        }),
      ),
    // --on-failure rollback: the failed hop rolled back at once, under this run's lease.
    onFailure:
      argv.onFailure === 'rollback'
        ? (err, run, held) =>
            rollBackAfterFailure(run.deps, err, {
              ...startArgs,
              ...meshctlGiven,
              from: backupDir,
              allHops: false,
              force: false,
              pathEnv: process.env.PATH,
              timeoutMs,
              concurrency,
              format,
              signal: held.signal,
              runId: run.runId,
              guard: run.guard,
            })
        : undefined,
    failure: (err) => withRollbackHint(err, backupDir),
    summary: (r) => summary(plan, r, backupDir),
    notConverged: (n) => `the upgrade finished, but ${n} item(s) are not converged (listed above)`,
  });
}
