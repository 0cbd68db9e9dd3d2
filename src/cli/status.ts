import { NotConvergedError, UsageError } from '../errors.ts';
import { formatSkewText, skewReport } from '../workloads/index.ts';
import { createDeps } from './context.ts';
import { defineCommand, withExamples } from './define.ts';
import { type GlobalArgv } from './options.ts';

const statusOptions = (y: GlobalArgv) =>
  withExamples(y, [['$0 status', 'Control plane and sidecar versions as a table'], ['$0 status -o json', 'The skew report as JSON']])
    .option('namespace', { alias: 'n', type: 'string', describe: 'Only injected workloads in this namespace (default: all namespaces)' });

export const statusCommand = defineCommand('status', 'Control-plane version and health, and every injected workload by sidecar version (exit 4 when behind)', statusOptions, ['text', 'json'], async (opts, format) => {
  const deps = await createDeps(opts);
  const report = await skewReport(deps, { meshNamespace: opts.meshNamespace, namespace: opts.namespace });
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatSkewText(report));
  if (report.controlPlane.version === null) {
    throw new UsageError(`no NGINX Service Mesh control plane (nginx-mesh-api or nginx-mesh-controller) found in namespace "${opts.meshNamespace}"`,
      'Use --mesh-namespace NS to name the namespace the mesh is deployed in.');
  }
  if (!report.converged) {
    const behind = report.workloads.filter((w) => w.behind).length;
    throw new NotConvergedError(`${behind} workload${behind === 1 ? '' : 's'} run sidecars other than ${report.targetVersion}`,
      'Run "kubectl nsm-upgrade restart" to re-roll them.');
  }
});
