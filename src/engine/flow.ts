/**
 * The one command flow of a run that changes the mesh (an upgrade, a rollback, and the resume of
 * either): the plan shown (with --dry-run, only shown), the refusals the plan itself carries,
 * preflight, the confirmation; then one task list: the confirmation and the Lease as gates (and any
 * gate that needs the lease, such as --prepull), then the steps. The lease is released whatever
 * happens; the summary follows; a run that did not converge ends with exit 4.
 */
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { NotConvergedError } from '../errors.ts';
import { fenceWrites } from './fenced-kube.ts';
import { eventEmitter, runGates, type Gate, type ListOutput } from './gates.ts';
import { holdLease, runGuard, type HeldRun } from './hold-lease.ts';
import type { ClusterIdentity } from './journal.ts';
import type { RunSignals } from './signals.ts';
import type { RunGuard } from './step-context.ts';
import type { Plan } from './types.ts';
import type { RunResult } from './walk.ts';
import { formatWindow } from './window.ts';

/** What a flow's walk of the steps gets: the API client that writes only under the lease, the run's id and guard, the gates before the steps. */
export interface FlowRun extends ListOutput {
  deps: Deps;
  runId: string;
  guard: RunGuard;
  signal: AbortSignal;
  before: readonly Gate[];
}

export interface Flow {
  deps: Deps;
  signals: RunSignals;
  plan: Plan;
  format: 'text' | 'json';
  dryRun: boolean;
  yes: boolean;
  breakLock: boolean;
  /** upgrade or rollback: recorded on the lease, said when interrupted. */
  operation: 'upgrade' | 'rollback';
  /** The run's directory (its journal), recorded on the lease. */
  dir: string;
  /** The command that continues the run. */
  resumeCommand: string;
  /** The run this one continues: its stale lease is taken over (no other's). */
  resumeRunId?: string | undefined;
  /** The cluster the run started on (journaled): checked before each change. */
  cluster: ClusterIdentity;
  /** Where the plan, the summary and -o json events go (stdout, stderr). */
  write: { out(text: string): void; err(text: string): void };
  formatPlan(format: 'text' | 'json'): string;
  /**
   * When the text plan goes to stderr: an upgrade's once its preflight passed (a refusal says what to fix,
   * not the whole plan again), a rollback's first (its losses and the preflight read against it).
   */
  showPlan: 'before-preflight' | 'after-preflight';
  /** Refusals the plan carries (a rollback's losses): thrown once the plan is shown, in a dry run too. */
  checkPlan?(): void;
  /** Said, and nothing run, when the plan has no hop. */
  nothingToDo?: string | undefined;
  preflight: Gate;
  /** Asks before the first change (unless --yes). */
  confirm(): Promise<void>;
  /** Gates that need the lease (--prepull), run with the fenced client. */
  afterLease?(deps: Deps): Gate[];
  walk(run: FlowRun): Promise<RunResult>;
  /** A failure under the lease (--on-failure rollback), before the lease is released. */
  onFailure?(err: unknown, run: FlowRun, held: HeldRun): Promise<void>;
  /** The error the user sees for a failure (the hint how to roll back). */
  failure?(err: unknown): unknown;
  summary(r: RunResult): string;
  /** "the upgrade finished, but N item(s) are not converged". */
  notConverged(items: number): string;
}

export async function runFlow(f: Flow): Promise<void> {
  const { deps, plan } = f;
  if (f.dryRun) {
    f.write.out(f.formatPlan(f.format));
    f.checkPlan?.();
    deps.log.info('Dry run: nothing was changed.');
    return;
  }
  if (f.nothingToDo !== undefined && plan.hops.length === 0) {
    f.write.out(`${f.nothingToDo}\n`);
    return;
  }
  if (f.format === 'text' && f.showPlan === 'before-preflight') f.write.err(f.formatPlan('text'));
  f.checkPlan?.();
  const list: ListOutput = { output: f.format, emit: (l) => f.write.out(`${l}\n`) };
  await runGates(deps, [f.preflight], list);
  if (f.format === 'text' && f.showPlan === 'after-preflight') f.write.err(f.formatPlan('text'));
  await f.confirm();

  const runId = randomUUID().slice(0, 8);
  let held: HeldRun | undefined;
  // The steps write only while the run holds its lease (fenced-kube.ts); the lease itself goes through deps.
  const runDeps: Deps = { ...deps, kube: fenceWrites(deps.kube, () => held?.lost) };
  const of = f.operation === 'rollback' ? ' the rollback' : '';
  const run: FlowRun = {
    ...list,
    deps: runDeps,
    runId,
    guard: runGuard(f.cluster, () => held),
    signal: f.signals.abort.signal,
    before: [
      {
        id: 'confirm',
        title: 'Confirmation',
        skip: f.yes ? '--yes given' : undefined,
        run: async () => 'confirmed at the prompt',
      },
      {
        id: 'lease',
        title: `Lease of mesh namespace ${plan.namespace}`,
        run: async () => {
          held = await holdLease(
            deps,
            {
              meshNamespace: plan.namespace,
              operation: f.operation,
              runId,
              resumeRunId: f.resumeRunId,
              backupDir: f.dir,
              breakLock: f.breakLock,
              firstSignal: `Interrupted: stopping after the current step. Continue${of} later with:\n  ${f.resumeCommand}\n(Ctrl-C again to stop at once.)`,
              secondSignal: `Stopping now. Continue${of} with:\n  ${f.resumeCommand}`,
            },
            f.signals,
          );
          return held.describe;
        },
      },
      ...(f.afterLease?.(runDeps) ?? []),
    ],
  };
  let result: RunResult;
  try {
    result = await f.walk(run);
  } catch (err) {
    if (held && f.onFailure) await f.onFailure(err, run, held);
    throw f.failure ? f.failure(err) : err;
  } finally {
    await held?.release();
  }
  if (f.format === 'text') f.write.out(f.summary(result));
  // -o json: the maintenance window is the run's last event (the summary holds it in text).
  else if (result.window) eventEmitter(deps, list, 'window')({ event: 'window', ...result.window });
  const items = result.unresolved.reduce((n, u) => n + u.items.length, 0);
  if (items)
    throw new NotConvergedError(
      f.notConverged(items),
      'Fix them, then check with `kubectl nsm-upgrade status`; restart workloads with `kubectl nsm-upgrade restart`.',
    );
}

/** The summary of a walk: steps run (then `where`), each step's items that need attention (at most 20 each), and its maintenance window. */
export function walkSummary(head: string, r: RunResult, where: string): string[] {
  const lines = [
    `${head}: ${r.stepsRun.length} step(s) run${r.stepsSkipped.length ? `, ${r.stepsSkipped.length} already done before` : ''}. ${where}`,
  ];
  for (const u of r.unresolved) {
    lines.push(`  ${u.step}: ${u.items.length} item(s) need attention`);
    for (const i of u.items.slice(0, 20)) lines.push(`    - ${i}`);
  }
  return [...lines, ...formatWindow(r.window)];
}
