import fs from 'node:fs/promises';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import type { RunSignals } from './signals.ts';
import { randomUUID } from 'node:crypto';
import { NotConvergedError, UsageError } from '../errors.ts';
import { confirmOrStop } from './confirm.ts';
import { assertPreflight } from '../preflight/preflight.ts';
import { withChildKubeconfig } from '../engine/child-kubeconfig.ts';
import { resumeCommand, runPlan, type RunResult } from '../engine/walk.ts';
import type { Plan } from '../engine/types.ts';
import { createDeps } from './context.ts';
import { parseConcurrency, parseDuration, parseMaxFailures, parseWorkloadFlag } from './options.ts';
import type { UpgradeArgs } from './upgrade-options.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import { defaultBackupDir } from '../backup/write.ts';
import { formatPlan } from './plan-format.ts';
import { formatSettingsSummary } from './settings-format.ts';
import { startFresh, startResume } from './upgrade-start.ts';
import { holdLease, runGuard, type HeldRun } from './under-lease.ts';
import { installRunSignals } from './signals.ts';
import { contextFor } from './run-context.ts';
import { fenceWrites } from '../engine/fenced-kube.ts';
import { runGates } from '../engine/gates.ts';
import { rollBackAfterFailure, withRollbackHint } from './rollback-on-failure.ts';
import { resumeAsRollback } from './rollback.ts';
import { imageCheckOptions, prepullGates } from './image-check-options.ts';

async function confirm(plan: Plan, yes: boolean, question?: string): Promise<void> {
  await confirmOrStop(yes, question ?? `Upgrade NSM ${plan.from} -> ${plan.to} in namespace "${plan.namespace}" (${plan.hops.length} hop(s))`, 'the upgrade deletes or replaces parts of the mesh');
}

function summary(plan: Plan, r: RunResult, dir: string): string {
  const lines = [`NSM ${plan.from} -> ${plan.to}: ${r.stepsRun.length} step(s) run${r.stepsSkipped.length ? `, ${r.stepsSkipped.length} already done before` : ''}. Backup and journal: ${dir}`];
  for (const u of r.unresolved) {
    lines.push(`  ${u.step}: ${u.items.length} item(s) need attention`);
    for (const i of u.items.slice(0, 20)) lines.push(`    - ${i}`);
  }
  lines.push(...formatSettingsSummary(plan.hops, r.unresolved));
  return lines.join('\n') + '\n';
}

/** The upgrade (the default command): plan, preflight, confirmation, Lease, then the steps; or a resume. */
export async function runUpgradeCommand(argv: UpgradeArgs, format: 'text' | 'json'): Promise<void> {
  const timeoutMs = parseDuration(argv.timeout);
  const concurrency = parseConcurrency(argv.concurrency);
  const maxFailures = parseMaxFailures(argv.maxFailures);
  const first = parseWorkloadFlag(argv.first, '--first');
  if (!argv.to && !argv.resume) throw new UsageError('nothing to do: no target version', 'Pass --to VERSION (see the plan first: kubectl nsm-upgrade plan --to VERSION), or --resume DIR.');
  const backupDir = path.resolve(argv.resume ?? argv.backupDir ?? defaultBackupDir(new Date()));
  // The context is settled here, once (a resume keeps its run's), and the kubeconfig read once: the
  // tool's client and every child command (a private kubeconfig of exactly it) stay on it to the end.
  const deps = await createDeps({ ...argv, context: await contextFor(fs, argv.context, argv.resume && backupDir) });
  const signals = installRunSignals(deps, argv.resume ? 'the resume' : 'the upgrade');
  try {
    await upgradeOrResume(deps, signals, argv, format, backupDir, timeoutMs, concurrency, { maxFailures, first });
  } finally {
    signals.dispose();
  }
}

async function upgradeOrResume(deps: Deps, signals: RunSignals, argv: UpgradeArgs, format: 'text' | 'json', backupDir: string, timeoutMs: number, concurrency: number, reroll: { maxFailures: number; first: WorkloadRef | undefined }): Promise<void> {
  const { maxFailures, first } = reroll;
  // One path for a fresh run and a resume: only where the plan comes from differs.
  const startArgs = { ...argv, backupDir, maxFailures, first };
  // A rollback finds nginx-meshctl by each file's own version (never from the journal): every one given is offered.
  const meshctlGiven = { meshctl: [...(argv.meshctl ?? []), ...(argv.meshctlCurrent ? [argv.meshctlCurrent] : [])], meshctlCurrent: undefined };
  // A run being rolled back (--on-failure rollback, or `rollback`) resumes as a rollback.
  if (argv.resume && await resumeAsRollback(deps, { ...startArgs, ...meshctlGiven, pathEnv: process.env.PATH, from: backupDir, format, timeoutMs, concurrency }, signals)) return;
  const start = argv.resume ? await startResume(deps, { ...startArgs, resume: argv.resume }) : await startFresh(deps, startArgs);
  if (!start) return;
  const { plan, install, resume } = start;
  if (argv.dryRun) {
    process.stdout.write(formatPlan(plan, format === 'json' ? 'json' : 'text'));
    deps.log.info('Dry run: nothing was changed.');
    return;
  }
  if (plan.hops.length === 0) { process.stdout.write(`NSM is already on ${plan.to}; nothing to do.\n`); return; }
  // Preflight, confirmation and the Lease are tasks of the list, before the steps.
  const list = { output: format, emit: (l: string) => process.stdout.write(l + '\n') };
  await runGates(deps, [{
    id: 'preflight',
    title: resume ? 'Preflight again (the run is half-way: control plane, release and dry-run checks are left to the steps)' : 'Preflight: API, permissions, binaries and their flags, charts, release, control plane, backup directory, cluster',
    run: async () => { await withChildKubeconfig(deps, plan, () => assertPreflight(deps, { plan, install, backupDir, resume: Boolean(resume), images: imageCheckOptions(argv) })); return 'passed'; },
  }], list);
  if (format === 'text') process.stderr.write(formatPlan(plan, 'text'));
  await confirm(plan, argv.yes, resume ? `Resume NSM ${plan.from} -> ${plan.to} in namespace "${plan.namespace}" (${resume.done.size} step(s) done before)` : undefined);

  const runId = randomUUID().slice(0, 8);
  let held: HeldRun | undefined;
  let result: RunResult;
  // The steps write only while the run holds its lease (fenced-kube.ts); the lease itself goes through deps.
  const runDeps: Deps = { ...deps, kube: fenceWrites(deps.kube, () => held?.lost) };
  const guard = runGuard(start.cluster, () => held);
  try {
    result = await withChildKubeconfig(deps, plan, () => runPlan(runDeps, plan, {
      backupDir, timeoutMs, concurrency, restart: argv.restart, deleteBarePods: argv.deleteBarePods, maxFailures, first, ...list,
      start: { install: start.install, inputs: start.inputs, cluster: start.cluster }, runId, resume, signal: signals.abort.signal, guard,
      before: [
        { id: 'confirm', title: 'Confirmation', skip: argv.yes ? '--yes given' : undefined, run: async () => 'confirmed at the prompt' },
        {
          id: 'lease', title: `Lease of mesh namespace ${plan.namespace}`,
          run: async () => {
            held = await holdLease(deps, {
              meshNamespace: plan.namespace, operation: 'upgrade', runId, resumeRunId: resume?.runId, backupDir, breakLock: argv.breakLock,
              firstSignal: `Interrupted: stopping after the current step. Continue later with:\n  ${resumeCommand(backupDir)}\n(Ctrl-C again to stop at once.)`,
              secondSignal: `Stopping now. Continue with:\n  ${resumeCommand(backupDir)}`,
            }, signals);
            return held.describe;
          },
        },
        ...prepullGates(argv, runDeps, { plan, install, timeoutMs, signal: signals.abort.signal }),
      ],
    }));
  } catch (err) {
    if (argv.onFailure === 'rollback' && held) {
      await rollBackAfterFailure(runDeps, err, { ...startArgs, ...meshctlGiven, from: backupDir, allHops: false, force: false, pathEnv: process.env.PATH, timeoutMs, concurrency, format, signal: held.signal, runId, guard });
    }
    throw withRollbackHint(err, backupDir);
  } finally {
    await held?.release();
  }
  if (format === 'text') process.stdout.write(summary(plan, result, backupDir));
  if (result.unresolved.length) {
    throw new NotConvergedError(`the upgrade finished, but ${result.unresolved.reduce((n, u) => n + u.items.length, 0)} item(s) are not converged (listed above)`,
      'Fix them, then check with `kubectl nsm-upgrade status`; re-roll with `kubectl nsm-upgrade restart`.');
  }
}
