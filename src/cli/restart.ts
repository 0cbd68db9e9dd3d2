import { ExitCode, NotConvergedError, ToolError, UsageError } from '../errors.ts';
import { readControlPlane } from '../workloads/control-plane.ts';
import { formatRestartPlanText, formatRestartText, planWorkloadRestart, restartWorkloads } from '../workloads/index.ts';
import { assertSafeName } from '../kube/paths.ts';
import { createDeps } from './context.ts';
import { underLease } from './under-lease.ts';
import { parseConcurrency, parseDuration } from './options.ts';
import type { RestartArgs } from './restart-options.ts';

export async function runRestartCommand(opts: RestartArgs, format: 'text' | 'json'): Promise<void> {
  const timeoutMs = parseDuration(opts.timeout);
  const concurrency = parseConcurrency(opts.concurrency);
  if (opts.namespace !== undefined) assertSafeName(opts.namespace, 'namespace');
  const deps = await createDeps(opts);
  const cp = await readControlPlane(deps, opts.meshNamespace);
  if (cp.version === null) {
    throw new UsageError(`no NGINX Service Mesh control plane (nginx-mesh-api or nginx-mesh-controller) found in namespace "${opts.meshNamespace}", so the target sidecar version is unknown`,
      'Use --mesh-namespace NS to name the namespace the mesh is deployed in.');
  }
  if (opts.dryRun) {
    const plan = await planWorkloadRestart(deps, { targetVersion: cp.version, mode: opts.restart, deleteBarePods: opts.deleteBarePods, namespace: opts.namespace });
    process.stdout.write(format === 'json' ? `${JSON.stringify({ ...plan, concurrency }, null, 2)}\n` : formatRestartPlanText(plan, cp.version, concurrency));
    return;
  }
  const result = await underLease(deps, { meshNamespace: opts.meshNamespace, operation: 'restart' }, (signal) => restartWorkloads(deps, {
    targetVersion: cp.version!, mode: opts.restart, concurrency, timeoutMs, deleteBarePods: opts.deleteBarePods, namespace: opts.namespace, signal,
    onProgress: (p) => {
      if (p.state !== 'waiting' || p.message !== 'restarted') deps.log.info(`[${p.index}/${p.total}] ${p.kind.toLowerCase()} ${p.namespace}/${p.name}: ${p.message}`);
    },
  }));
  process.stdout.write(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatRestartText(result));
  // A workload that could not be restarted is a failure (exit 1), not a mesh left behind (exit 4).
  if (result.failed.length) throw new ToolError(`${result.failed.length} workload(s) could not be restarted: ${result.failed.map((f) => f.message).join('; ')}`, ExitCode.failed, 'See the FAILED rows above; fix the cause (permissions, admission), then run restart again.');
  if (result.interrupted) throw new ToolError(`the re-roll was interrupted: ${result.notStarted.length} workload(s) not started`, ExitCode.failed, 'Run `kubectl nsm-upgrade restart` again to re-roll what is still behind.');
  if (result.timedOut.length) {
    throw new NotConvergedError(`timed out waiting for ${result.timedOut.map((t) => `${t.kind.toLowerCase()} ${t.namespace}/${t.name}`).join(', ')}`,
      'Check why its pods do not become ready (kubectl describe), or raise --timeout.');
  }
  if (!result.final.converged) {
    throw new NotConvergedError(`${result.final.behind.length} workload${result.final.behind.length === 1 ? '' : 's'} still run sidecars other than ${cp.version}`,
      'See the skipped rows above for what to do, then run "kubectl nsm-upgrade status".');
  }
}
