import { ExitCode, NotConvergedError, ToolError, UsageError } from '../errors.ts';
import { formatSkewText, skewReport } from '../workloads/index.ts';
import { readRestartRecord } from '../workloads/restart-record.ts';
import { workloadKey } from '../workloads/owners.ts';
import { fleetSkewOutcome, formatFleetSkewText, type ClusterSkew } from '../workloads/fleet-skew.ts';
import { mapLimit } from '../concurrency.ts';
import { createDeps } from './context.ts';
import { commaList } from './options.ts';
import type { StatusArgs } from './status-options.ts';

/** `status --contexts`: every cluster read (four at a time), one table; exit 1 when one cannot be read, else 4 when one is not converged. */
async function fleetStatus(opts: StatusArgs, contexts: string[], format: 'text' | 'json'): Promise<void> {
  if (opts.context)
    throw new UsageError('status takes --context or --contexts, not both', 'Put every cluster in --contexts.');
  const rows = await mapLimit(contexts, 4, async (context): Promise<ClusterSkew> => {
    try {
      const deps = await createDeps({ ...opts, context });
      return {
        context,
        report: await skewReport(deps, { meshNamespace: opts.meshNamespace, namespace: opts.namespace }),
      };
    } catch (err) {
      return { context, error: (err as Error).message.split('\n')[0]! };
    }
  });
  const outcome = fleetSkewOutcome(rows);
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ converged: outcome === 'converged', clusters: rows }, null, 2)}\n`
      : formatFleetSkewText(rows),
  );
  if (outcome === 'unreadable')
    throw new ToolError(
      `cannot read ${rows
        .filter((r) => 'error' in r)
        .map((r) => r.context)
        .join(', ')}`,
      ExitCode.failed,
      'Check each context: kubectl --context C get namespaces.',
    );
  if (outcome === 'not-converged')
    throw new NotConvergedError(
      `not converged: ${rows
        .filter((r) => 'report' in r && !r.report.converged)
        .map((r) => r.context)
        .join(', ')}`,
      'Run "kubectl nsm-upgrade status --context C" for the workloads behind, and "kubectl nsm-upgrade restart" there.',
    );
}

/** `status`: the skew report of one cluster, or of several (--contexts). */
export async function runStatusCommand(opts: StatusArgs, format: 'text' | 'json'): Promise<void> {
  const contexts = commaList(opts.contexts);
  if (contexts.length) return fleetStatus(opts, contexts, format);
  const deps = await createDeps(opts);
  const [report, lastRestart] = await Promise.all([
    skewReport(deps, { meshNamespace: opts.meshNamespace, namespace: opts.namespace }),
    readRestartRecord(deps, opts.meshNamespace),
  ]);
  const json = () => ({
    ...report,
    ...(lastRestart
      ? {
          lastRestart: { ...lastRestart, workloads: undefined },
          workloads: report.workloads.map((w) => ({
            ...w,
            lastRestart: lastRestart.workloads[workloadKey(w)] ?? null,
          })),
        }
      : {}),
  });
  process.stdout.write(
    format === 'json' ? `${JSON.stringify(json(), null, 2)}\n` : formatSkewText(report, lastRestart),
  );
  if (report.controlPlane.version === null) {
    throw new UsageError(
      `no NGINX Service Mesh control plane (nginx-mesh-api or nginx-mesh-controller) found in namespace "${opts.meshNamespace}"`,
      'Use --mesh-namespace NS to name the namespace the mesh is deployed in.',
    );
  }
  if (!report.converged) {
    const behind = report.workloads.filter((w) => w.behind).length;
    throw new NotConvergedError(
      `${behind} workload${behind === 1 ? '' : 's'} run sidecars other than ${report.targetVersion}`,
      'Run "kubectl nsm-upgrade restart" to restart them.',
    );
  }
}
