import { randomUUID } from 'node:crypto';
import { ExitCode, NotConvergedError, ToolError, UsageError } from '../errors.ts';
import type { Deps } from '../deps.ts';
import { readControlPlane } from '../workloads/control-plane.ts';
import { formatRestartPlanText, formatRestartText, planWorkloadRestart, restartWorkloads } from '../workloads/index.ts';
import {
  createRecorder,
  isContinuable,
  readRestartRecord,
  rolledKeys,
  type RestartRecord,
} from '../workloads/restart-record.ts';
import { undoWorkload } from '../workloads/undo.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import { assertSafeName } from '../kube/paths.ts';
import { createDeps } from './context.ts';
import { underLease } from '../engine/hold-lease.ts';
import { parseConcurrency, parseDuration, parseMaxFailures, parseWorkloadFlag } from './options.ts';
import type { RestartArgs } from './restart-options.ts';

/** The command that continues this restart, with the flags that chose its cluster and workloads. */
export function restartContinueCommand(
  opts: Pick<RestartArgs, 'restart' | 'namespace' | 'meshNamespace' | 'context' | 'kubeconfig'>,
): string {
  const flags = [
    ...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : []),
    ...(opts.context ? ['--context', opts.context] : []),
    ...(opts.meshNamespace !== 'nginx-mesh' ? ['--mesh-namespace', opts.meshNamespace] : []),
    ...(opts.restart === 'all' ? ['--restart', 'all'] : []),
    ...(opts.namespace ? ['-n', opts.namespace] : []),
  ];
  return ['kubectl nsm-upgrade restart', ...flags].join(' ');
}

/** The stopped restart this one continues, if the record names one for the same target and workloads. */
async function continuing(deps: Deps, opts: RestartArgs, target: string): Promise<RestartRecord | undefined> {
  if (opts.startOver) return undefined;
  const r = await readRestartRecord(deps, opts.meshNamespace);
  if (
    !r ||
    !isContinuable(r) ||
    r.targetVersion !== target ||
    r.mode !== opts.restart ||
    (r.namespace ?? undefined) !== (opts.namespace ?? undefined)
  )
    return undefined;
  return r;
}

async function runUndo(
  deps: Deps,
  ref: WorkloadRef,
  opts: RestartArgs,
  timeoutMs: number,
  format: 'text' | 'json',
): Promise<void> {
  const r = await underLease(deps, { meshNamespace: opts.meshNamespace, operation: 'restart --undo' }, () =>
    undoWorkload(deps, ref, {
      timeoutMs,
      onMessage: (m) => deps.log.info(`${ref.kind.toLowerCase()} ${ref.namespace}/${ref.name}: ${m}`),
    }),
  );
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify(r, null, 2)}\n`
      : `${ref.kind.toLowerCase()} ${ref.namespace}/${ref.name}: back from revision ${r.fromRevision} to ${r.toRevision}: ${r.rollout.message}\n`,
  );
  if (r.rollout.state !== 'done')
    throw new NotConvergedError(
      `the rollout back to revision ${r.toRevision} did not complete: ${r.rollout.message}`,
      'Check its pods (kubectl describe), or raise --timeout.',
    );
}

export async function runRestartCommand(opts: RestartArgs, format: 'text' | 'json'): Promise<void> {
  const timeoutMs = parseDuration(opts.timeout);
  const concurrency = parseConcurrency(opts.concurrency);
  const maxFailures = parseMaxFailures(opts.maxFailures);
  const first = parseWorkloadFlag(opts.first, '--first');
  const undo = parseWorkloadFlag(opts.undo, '--undo');
  if (opts.namespace !== undefined) assertSafeName(opts.namespace, 'namespace');
  if (undo && (first || opts.startOver || opts.deleteBarePods || opts.dryRun))
    throw new UsageError(
      '--undo puts one workload back; it takes no --first, --start-over, --delete-bare-pods or --dry-run',
      'Run restart --undo NAMESPACE/KIND/NAME on its own.',
    );
  const deps = await createDeps(opts);
  if (undo) return runUndo(deps, undo, opts, timeoutMs, format);
  const cp = await readControlPlane(deps, opts.meshNamespace);
  if (cp.version === null) {
    throw new UsageError(
      `no NGINX Service Mesh control plane (nginx-mesh-api or nginx-mesh-controller) found in namespace "${opts.meshNamespace}", so the target sidecar version is unknown`,
      'Use --mesh-namespace NS to name the namespace the mesh is deployed in.',
    );
  }
  const target = cp.version;
  const previous = await continuing(deps, opts, target);
  const alreadyRolled = previous ? rolledKeys(previous) : undefined;
  if (previous)
    deps.log.info(
      `Continuing the restart of run ${previous.runId} (${previous.state}, last written ${previous.updatedAt}): the ${alreadyRolled!.size} workload(s) it brought over are left alone (--start-over restarts them too).`,
    );
  const planOpts = {
    targetVersion: target,
    mode: opts.restart,
    deleteBarePods: opts.deleteBarePods,
    namespace: opts.namespace,
    first,
    alreadyRolled,
  };
  if (opts.dryRun) {
    const plan = await planWorkloadRestart(deps, planOpts);
    process.stdout.write(
      format === 'json'
        ? `${JSON.stringify({ ...plan, concurrency, maxFailures }, null, 2)}\n`
        : formatRestartPlanText(plan, target, concurrency),
    );
    return;
  }
  // --first must name a workload to restart: checked before the Lease is taken (exit 2, nothing changed).
  if (first) await planWorkloadRestart(deps, planOpts);
  const runId = randomUUID().slice(0, 8);
  const record: RestartRecord = {
    runId,
    operation: 'restart',
    targetVersion: target,
    mode: opts.restart,
    namespace: opts.namespace,
    startedAt: new Date(deps.clock.now()).toISOString(),
    updatedAt: '',
    state: 'running',
    maxFailures,
    workloads: {},
  };
  // Continuing: what the stopped restart brought over stays on record as brought over.
  for (const k of alreadyRolled ?? []) record.workloads[k] = previous!.workloads[k]!;
  const result = await underLease(deps, { meshNamespace: opts.meshNamespace, operation: 'restart', runId }, (signal) =>
    restartWorkloads(deps, {
      ...planOpts,
      concurrency,
      maxFailures,
      timeoutMs,
      signal,
      recorder: createRecorder(deps, opts.meshNamespace, record, { warn: (m) => deps.log.warn(m) }),
      onProgress: (p) => {
        if (p.state !== 'waiting' || p.message !== 'restarted')
          deps.log.info(`[${p.index}/${p.total}] ${p.kind.toLowerCase()} ${p.namespace}/${p.name}: ${p.message}`);
      },
    }),
  );
  const again = restartContinueCommand(opts);
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ ...result, ...(result.notStarted.length ? { continueWith: again } : {}) }, null, 2)}\n`
      : formatRestartText(result, again),
  );
  const named = (
    l: readonly { kind: string; namespace: string; name: string; reason?: string | undefined; message: string }[],
  ) => l.map((f) => `${f.kind.toLowerCase()} ${f.namespace}/${f.name} (${f.reason ?? f.message})`).join('; ');
  // A workload that could not be restarted is a failure (exit 1), not a mesh left behind (exit 4).
  if (result.failed.length || (result.stoppedAtGate && result.timedOut.length)) {
    throw new ToolError(
      `${result.failed.length + result.timedOut.length} workload(s) failed to restart${result.stoppedAtGate ? `, so the restart stopped with ${result.notStarted.length} not started` : ''}: ${named([...result.failed, ...result.timedOut])}`,
      ExitCode.failed,
      `Fix the cause, or put a workload back with: kubectl nsm-upgrade restart --undo NAMESPACE/KIND/NAME. Then continue with: ${again}`,
    );
  }
  if (result.interrupted)
    throw new ToolError(
      `the restart was interrupted: ${result.notStarted.length} workload(s) not started`,
      ExitCode.failed,
      `Continue with: ${again}`,
    );
  if (result.timedOut.length) {
    throw new NotConvergedError(
      `timed out waiting for ${named(result.timedOut)}`,
      'Check why its pods do not become ready (kubectl describe), or raise --timeout.',
    );
  }
  if (!result.final.converged) {
    throw new NotConvergedError(
      `${result.final.behind.length} workload${result.final.behind.length === 1 ? '' : 's'} still run sidecars other than ${target}`,
      'See the skipped rows above for what to do, then run "kubectl nsm-upgrade status".',
    );
  }
}
