/**
 * Before anything changes, the fleet looks at every cluster as its own run would: detect, plan and
 * preflight (API, permissions, binaries and their flags, dry runs, charts, release, control plane,
 * backup directory). A failure of any of them refuses that cluster, never throws. A cluster whose
 * run was interrupted is read from its journal instead (its own --resume checks it again).
 */
import type { Deps, FleetDeps } from '../deps.ts';
import { ToolError } from '../errors.ts';
import { detectAndPlan } from '../upgrade/detect-plan.ts';
import { preflightChecks } from '../preflight/preflight.ts';
import { withChildKubeconfig } from '../engine/child-kubeconfig.ts';
import { readJournal } from '../engine/journal.ts';
import { skewReport } from '../workloads/index.ts';
import type { Plan } from '../engine/types.ts';
import { clusterBackupDir } from './cluster-args.ts';
import type { ClusterSurvey, FleetCluster } from './types.ts';

export interface SurveySettings {
  to: string;
  fleetDir: string;
  timeout: string;
  labelNamespaces: boolean;
}

/** The run's task group: its gates, then its plan's steps (ids as its JSON events name them). */
export function runSteps(plan: Pick<Plan, 'hops'>): { id: string; title: string }[] {
  return [
    { id: 'preflight', title: 'Preflight' },
    { id: 'confirm', title: 'Confirmation' },
    { id: 'lease', title: 'Lease' },
    ...plan.hops.flatMap((h) => h.steps.map((s) => ({ id: s.id, title: s.title }))),
  ];
}

const blank = (context: string) => ({ context, hops: [], steps: [], refusals: [], warnings: [] });

const hint = (err: unknown, fallback: string) => (err instanceof ToolError && err.hint ? err.hint : fallback);

export async function surveyCluster(fd: FleetDeps, c: FleetCluster, s: SurveySettings): Promise<ClusterSurvey> {
  try {
    const deps = await fd.cluster(c);
    const backupDir = clusterBackupDir(s.fleetDir, c);
    const { install, plan } = await detectAndPlan(deps, {
      to: s.to,
      strategy: c.strategy,
      meshctl: c.meshctl,
      meshctlCurrent: c.meshctlCurrent,
      helm: c.helm,
      chart: c.chart,
      backupDir,
      timeout: s.timeout,
      labelNamespaces: s.labelNamespaces,
      pathEnv: fd.pathEnv,
      meshNamespace: c.meshNamespace,
      method: c.method,
      release: c.release,
    });
    const found = {
      ...blank(c.context),
      from: install.version,
      method: install.method,
      release: install.release,
      environment: install.environment,
      hops: plan.hops.map((h) => ({ from: h.from, to: h.to, strategy: h.strategy })),
      steps: runSteps(plan),
      warnings: [...install.warnings, ...plan.warnings.map((w) => w.message)],
    };
    if (plan.refusals.length)
      return {
        ...found,
        action: 'refused',
        refusals: plan.refusals.map((r) => ({ check: 'plan', message: r.message, fix: r.fix })),
      };
    if (!plan.hops.length) return { ...found, action: 'up-to-date' };
    const failures = await withChildKubeconfig(deps, plan, () => preflightChecks(deps, { plan, install, backupDir }));
    return {
      ...found,
      action: failures.length ? 'refused' : 'upgrade',
      refusals: failures.map((f) => ({ check: f.check, message: f.message, fix: f.fix })),
    };
  } catch (err) {
    return {
      ...blank(c.context),
      action: 'refused',
      refusals: [
        {
          check: 'detect',
          message: (err as Error).message,
          fix: hint(err, 'check the context (kubectl --context CONTEXT get namespaces) and its --mesh-namespace'),
        },
      ],
    };
  }
}

/** A cluster whose run was interrupted: what its journal says (steps, version), for its task group. */
export async function surveyInterrupted(
  fd: Pick<FleetDeps, 'fs'>,
  c: FleetCluster,
  fleetDir: string,
): Promise<ClusterSurvey> {
  try {
    const j = await readJournal(fd.fs, clusterBackupDir(fleetDir, c));
    return {
      ...blank(c.context),
      action: 'resume',
      from: j.install.version,
      method: j.install.method,
      release: j.install.release,
      environment: j.install.environment,
      hops: j.plan.hops.map((h) => ({ from: h.from, to: h.to, strategy: h.strategy })),
      steps: runSteps(j.plan),
    };
  } catch (err) {
    return {
      ...blank(c.context),
      action: 'refused',
      refusals: [
        {
          check: 'journal',
          message: (err as Error).message,
          fix: hint(
            err,
            `resume the cluster on its own: kubectl nsm-upgrade --resume ${clusterBackupDir(fleetDir, c)}`,
          ),
        },
      ],
    };
  }
}

/** What the fleet reads of a cluster after its run (and after the soak). */
export interface ClusterCheck {
  /** Its control plane's version (null: none found; undefined: it could not be read). */
  version?: string | null | undefined;
  /** Why it is not done on the target (control plane version and health, every sidecar); undefined when it is. */
  problem?: string | undefined;
}

export async function checkConvergence(
  deps: Pick<Deps, 'kube'>,
  c: Pick<FleetCluster, 'meshNamespace'>,
  to: string,
): Promise<ClusterCheck> {
  const r = await skewReport(deps, { meshNamespace: c.meshNamespace, targetVersion: to });
  const version = r.controlPlane.version;
  if (version !== to)
    return {
      version,
      problem: `the control plane in ${c.meshNamespace} is ${version === null ? 'not found' : `on ${version}`}, not ${to}`,
    };
  const unready = r.controlPlane.components.filter((x) => x.desired === 0 || x.ready < x.desired);
  if (unready.length)
    return {
      version,
      problem: `control plane not ready: ${unready.map((x) => `${x.name} ${x.ready}/${x.desired}`).join(', ')}`,
    };
  const behind = r.workloads.filter((w) => w.behind);
  if (!r.converged)
    return {
      version,
      problem: `${behind.length} workload(s) run sidecars other than ${to}: ${behind
        .slice(0, 5)
        .map((w) => `${w.namespace}/${w.kind.toLowerCase()}/${w.name}`)
        .join(', ')}`,
    };
  return { version };
}
