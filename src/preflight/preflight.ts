/**
 * Preflight: every check that must pass before the first change. Each failure names its fix.
 * `preflightChecks` returns them all (checks run even after one fails, so the user sees every
 * problem at once); `assertPreflight` throws PreflightError (exit 3, nothing changed).
 *
 * Checks: api (server reachable), permissions (SelfSubjectAccessReview per requiredPermissions),
 * binaries (nginx-meshctl of each needed version, accepting every flag the plan passes it and the
 * first hop's command in its own dry run: preflight-commands.ts; helm 3.14+ or 4), chart (helm path: every hop's
 * chart can be fetched), release (not stuck in
 * pending-*), control-plane (no Deployment mid-rollout, every pod ready, in the mesh namespace),
 * backup-dir (absent or empty, and writable), cluster (every helm/nginx-meshctl command reaches
 * the server the tool read: cluster-identity.ts), leftovers (what earlier removals left that a redeploy
 * trips over, unless --clean-leftovers clears them after the backup: leftovers.ts), foreign-objects (what
 * a removal deleting the mesh namespace would delete that is not the mesh's: foreign-objects.ts), schemas (every object
 * the backup will hold against each hop's target CRD schemas: rejected, or losing fields unless
 * --accept-pruning: schema-report.ts), images (every image each hop's target runs, in its registry, with the
 * install's credentials, for the nodes' platforms: image-preflight.ts).
 */
import { childKubeconfigPath } from '../engine/child-kubeconfig.ts';
import path from 'node:path';
import { constants } from 'node:fs';
import type { Deps } from '../deps.ts';
import { PreflightError } from '../errors.ts';
import { isAtLeast } from '../version-compare.ts';
import { helmShowChart, helmVersion, parseHelmVersion, type ChartRef } from '../controlplane/helm.ts';
import { meshctlVersion, parseMeshctlVersion } from '../controlplane/meshctl.ts';
import { collectionPath, core } from '../kube/paths.ts';
import { describePermission, requiredPermissions } from './permissions.ts';
import { checkDryRuns, checkPlannedFlags } from './commands.ts';
import { checkChildTargets } from '../engine/cluster-identity.ts';
import { checkLeftovers } from './leftovers.ts';
import { checkForeignObjects } from './foreign-objects.ts';
import { checkBackupSchemas } from '../engine/phases/schema-report.ts';
import type { Install, Plan } from '../engine/types.ts';
import { checkImages, type ImageCheckOptions } from './images.ts';
import { dryRunImages, type ImageUse } from '../images/manifest-images.ts';

export interface PreflightFailure {
  check:
    | 'api'
    | 'permissions'
    | 'binaries'
    | 'chart'
    | 'release'
    | 'control-plane'
    | 'backup-dir'
    | 'cluster'
    | 'leftovers'
    | 'foreign-objects'
    | 'schemas'
    | 'images';
  message: string;
  fix: string;
}

export interface PreflightInput {
  plan: Plan;
  install: Install;
  backupDir: string;
  /**
   * A resumed run: its backup directory is in use (it must still be writable), and the mesh is
   * half-way (control plane, release status and the first command's dry run describe the start of
   * the run, not now), so those checks are left to the steps, which wait for or repair that state.
   */
  resume?: boolean;
  /**
   * A rollback goes back to a backup it has checked itself (rollback/compat.ts: kinds and versions
   * the old CRDs cannot hold refuse it), so the upgrade's own checks of the target's schemas and of
   * leftovers do not apply to it.
   */
  rollback?: boolean;
  /** The image check (image-preflight.ts); left out by callers that deploy nothing new (a rollback). */
  images?: ImageCheckOptions | undefined;
}

type Check = (deps: Deps, input: PreflightInput) => Promise<PreflightFailure[]>;

export const checkApi: Check = async (deps) => {
  try {
    await deps.kube.request({ path: '/version', noRetry: true });
    return [];
  } catch (err) {
    return [
      {
        check: 'api',
        message: `the API server ${deps.kube.server} does not answer: ${(err as Error).message}`,
        fix: 'check --kubeconfig and --context, and that the cluster is reachable (kubectl version)',
      },
    ];
  }
};

/** `pods/eviction` is resource pods, subresource eviction, to the API server. */
const subresource = (r: string) => {
  const [resource, sub] = r.split('/');
  return sub ? { resource, subresource: sub } : { resource };
};

interface AccessReview {
  status?: { allowed?: boolean; reason?: string };
}

export const checkPermissions: Check = async (deps, { plan }) => {
  const needed = requiredPermissions(plan);
  const denied = await Promise.all(
    needed.map(async (p) => {
      const review = await deps.kube.request<AccessReview>({
        method: 'POST',
        path: collectionPath(core.selfSubjectAccessReviews),
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: p.verb,
              group: p.group,
              ...subresource(p.resource),
              ...(p.namespace ? { namespace: p.namespace } : {}),
            },
          },
        },
      });
      return review.status?.allowed ? undefined : p;
    }),
  );
  return denied
    .filter((p) => p !== undefined)
    .map((p) => ({
      check: 'permissions' as const,
      message: `not allowed to ${describePermission(p)}: needed to ${p.why} (${p.steps.join(', ')})`,
      fix: 'run as a user with that permission (upgrading NSM needs cluster-admin), or pass --context for one',
    }));
};

/** Which binary each step's commands need, at which version. */
function neededBinaries(
  plan: Plan,
): { bin: string; tool: 'nginx-meshctl' | 'helm'; version: string | undefined; steps: string[] }[] {
  const out = new Map<
    string,
    { bin: string; tool: 'nginx-meshctl' | 'helm'; version: string | undefined; steps: string[] }
  >();
  for (const hop of plan.hops)
    for (const step of hop.steps)
      for (const cmd of step.commands) {
        const tool = hop.method === 'helm' ? 'helm' : 'nginx-meshctl';
        const version = tool === 'helm' ? undefined : step.kind === 'remove' ? hop.from : hop.to;
        const key = `${cmd.bin}\0${version ?? ''}`;
        const cur = out.get(key) ?? { bin: cmd.bin, tool, version, steps: [] };
        if (!cur.steps.includes(step.id)) cur.steps.push(step.id);
        out.set(key, cur);
      }
  return [...out.values()];
}

export const checkBinaries: Check = async (deps, { plan }) => {
  const failures: PreflightFailure[] = [];
  for (const b of neededBinaries(plan)) {
    const cmd = b.tool === 'helm' ? helmVersion(b.bin) : meshctlVersion(b.bin);
    let out = '';
    let problem: string | undefined;
    try {
      const res = await deps.exec.run(cmd);
      out = res.stdout;
      if (res.exitCode !== 0 && !out) problem = `exited ${res.exitCode}: ${res.stderr.split('\n')[0] ?? ''}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    const flag =
      b.tool === 'helm'
        ? '--helm PATH'
        : b.steps.some((s) => s.endsWith('.remove'))
          ? '--meshctl-current PATH'
          : '--meshctl PATH';
    if (problem) {
      failures.push({
        check: 'binaries',
        message: `${b.bin} (needed by ${b.steps.join(', ')}) cannot run: ${problem}`,
        fix: `pass ${flag} to a working ${b.tool}${b.version ? ` ${b.version}` : ''}`,
      });
      continue;
    }
    if (b.tool === 'helm') {
      const v = parseHelmVersion(out);
      if (!v || !isAtLeast(v, '3.14.0') || isAtLeast(v, '5.0.0'))
        failures.push({
          check: 'binaries',
          message: `${b.bin} is helm ${v ?? `of unknown version (${out.split('\n')[0]})`}; the upgrade needs Helm 3.14+ or Helm 4 (--reset-then-reuse-values)`,
          fix: 'pass --helm PATH to Helm 3.14 or later, or Helm 4',
        });
      continue;
    }
    const v = parseMeshctlVersion(out);
    if (v !== b.version)
      failures.push({
        check: 'binaries',
        message: `${b.bin} is nginx-meshctl ${v ?? '(no version on its first line)'}, but ${b.steps.join(', ')} need ${b.version}`,
        fix: `pass ${flag} to nginx-meshctl ${b.version} (the docs: remove with the installed version's binary, deploy/upgrade with the target's)`,
      });
  }
  return failures;
};

/** Helm path: every hop's chart can be fetched (`helm show chart`), so no hop fails half-way for a missing repo. */
export const checkCharts: Check = async (deps, { plan }) => {
  const charts = new Map<string, { bin: string; chart: ChartRef; steps: string[] }>();
  for (const hop of plan.hops)
    for (const step of hop.steps) {
      const chart = 'chart' in step.params ? step.params.chart : undefined;
      const bin = step.commands[0]?.bin;
      if (hop.method !== 'helm' || !chart?.ref || !bin || (step.kind !== 'upgrade' && step.kind !== 'deploy')) continue;
      const key = `${chart.ref}@${chart.version ?? ''}`;
      charts.set(key, { bin, chart, steps: [...(charts.get(key)?.steps ?? []), step.id] });
    }
  const failures: PreflightFailure[] = [];
  for (const c of charts.values()) {
    const res = await deps.exec
      .run(helmShowChart({ bin: c.bin }, c.chart))
      .catch((err: Error) => ({ exitCode: 1, stdout: '', stderr: err.message }));
    if (res.exitCode === 0) continue;
    const repo = c.chart.ref.split('/')[0];
    failures.push({
      check: 'chart',
      message: `chart ${c.chart.ref}${c.chart.version ? ` version ${c.chart.version}` : ''} (needed by ${c.steps.join(', ')}) cannot be fetched: ${res.stderr.split('\n').find(Boolean) ?? `exit ${res.exitCode}`}`,
      fix: `add the repository (helm repo add ${repo === 'nginx-stable' ? 'nginx-stable https://helm.nginx.com/stable' : `${repo} URL`} && helm repo update), or pass --chart with a local chart directory (<dir>/<version>/Chart.yaml)`,
    });
  }
  return failures;
};

export const checkRelease: Check = async (_deps, { install }) => {
  if (!install.releaseStuck) return [];
  const rel = install.release ?? '';
  return [
    {
      check: 'release',
      message: `Helm release ${rel} in ${install.namespace} is ${install.releaseStatus} (revision ${install.releaseRevision}): Helm refuses to upgrade it`,
      fix: `inspect it with \`helm history ${rel} -n ${install.namespace}\` and roll back to the last deployed revision with \`helm rollback ${rel} -n ${install.namespace}\`, then run again`,
    },
  ];
};

interface Workload {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}
interface Pod {
  metadata?: { name?: string; ownerReferences?: { kind?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** Pure: Deployments still rolling out, and pods that are not ready (finished Job pods excepted). */
export function unsettled(
  deployments: readonly Workload[],
  pods: readonly Pod[],
): { rolling: string[]; notReady: string[] } {
  const rolling = deployments
    .filter((d) => {
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      return (
        (s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) ||
        (s.updatedReplicas ?? 0) < want ||
        (s.availableReplicas ?? 0) < want ||
        (s.replicas ?? 0) > want
      );
    })
    .map((d) => d.metadata?.name ?? '?');
  const notReady = pods
    .filter((p) => {
      if (p.status?.phase === 'Succeeded') return false;
      return !(p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    })
    .map((p) => `${p.metadata?.name ?? '?'} (${p.status?.phase ?? 'unknown'})`);
  return { rolling, notReady };
}

export const checkControlPlane: Check = async (deps, { install }) => {
  const ns = install.namespace;
  const [deployments, pods] = await Promise.all([
    deps.kube.request<{ items: Workload[] }>({ path: collectionPath(core.deployments, ns) }),
    deps.kube.request<{ items: Pod[] }>({ path: collectionPath(core.pods, ns) }),
  ]);
  const { rolling, notReady } = unsettled(deployments.items, pods.items);
  const failures: PreflightFailure[] = [];
  if (rolling.length)
    failures.push({
      check: 'control-plane',
      message: `Deployments mid-rollout in ${ns}: ${rolling.join(', ')}`,
      fix: `wait for them (kubectl rollout status deployment/${rolling[0]} -n ${ns}) or fix what blocks them, then run again`,
    });
  if (notReady.length)
    failures.push({
      check: 'control-plane',
      message: `pods not ready in ${ns}: ${notReady.join(', ')}`,
      fix: `find out why (kubectl describe pod -n ${ns} ...) and fix it, then run again: upgrading a broken control plane hides the cause`,
    });
  return failures;
};

export const checkBackupDir: Check = async (deps, { backupDir, resume }) => {
  const fix = 'pass --backup-dir with a new or empty directory (or --resume DIR to continue the run that wrote it)';
  try {
    const st = await deps.fs.stat(backupDir);
    if (!st.isDirectory())
      return [{ check: 'backup-dir', message: `--backup-dir ${backupDir} exists and is not a directory`, fix }];
    if (
      !resume &&
      (await deps.fs.readdir(backupDir)).filter((f) => f !== path.basename(childKubeconfigPath(backupDir))).length > 0
    )
      return [{ check: 'backup-dir', message: `--backup-dir ${backupDir} is not empty`, fix }];
    await deps.fs.access(backupDir, constants.W_OK);
    return [];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      return [
        {
          check: 'backup-dir',
          message: `--backup-dir ${backupDir} is not writable: ${(err as Error).message}`,
          fix: 'pass --backup-dir with a directory you can write to',
        },
      ];
  }
  const parent = path.dirname(path.resolve(backupDir));
  try {
    await deps.fs.access(parent, constants.W_OK);
    return [];
  } catch (err) {
    return [
      {
        check: 'backup-dir',
        message: `cannot create --backup-dir ${backupDir}: ${parent} is missing or not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        fix: 'pass --backup-dir under a directory you can write to',
      },
    ];
  }
};

/** Runs every check; when the API does not answer, the cluster checks are skipped (they would only repeat it). */
export async function preflightChecks(deps: Deps, input: PreflightInput): Promise<PreflightFailure[]> {
  const api = await checkApi(deps, input);
  // Charts are fetched with the helm binary: check them only once the binaries passed (no echo of the same problem).
  // Likewise each nginx-meshctl command is checked against its binary (flags, then a dry run) only once the versions are right.
  const binariesThenCharts: Check = async (d, i) => {
    const b = await checkBinaries(d, i);
    if (b.length) return b;
    const flags = await checkPlannedFlags(d, i.plan);
    if (flags.length) return flags;
    const printed = new Map<number, ImageUse[]>();
    const dry =
      api.length || i.resume
        ? []
        : await checkDryRuns(d, i.plan, (hop, stdout) => printed.set(hop, dryRunImages(stdout)));
    if (dry.length) return dry;
    const charts = await checkCharts(d, i);
    if (charts.length || !i.images || i.resume || api.length) return charts;
    const images = await checkImages(d, i, i.images, printed);
    for (const w of images.warnings) d.log.warn(w);
    d.log.info(images.summary);
    return images.failures;
  };
  const targets: Check = async (d, i) => checkChildTargets(d, i.plan);
  const local = [binariesThenCharts, checkBackupDir, targets, ...(input.resume ? [] : [checkRelease])];
  const cluster = api.length
    ? []
    : [
        checkPermissions,
        ...(input.resume
          ? []
          : [checkControlPlane, checkForeignObjects, ...(input.rollback ? [] : [checkLeftovers, checkBackupSchemas])]),
      ];
  const results = await Promise.all(
    [...local, ...cluster].map(async (c) => {
      try {
        return await c(deps, input);
      } catch (err) {
        return [
          {
            check: 'api' as const,
            message: `a preflight check could not run: ${(err as Error).message}`,
            fix: 'check the connection to the cluster and run again',
          },
        ];
      }
    }),
  );
  return [...api, ...results.flat()];
}

/** Throws PreflightError (exit 3) listing every failure with its fix; returns when all pass. */
export async function assertPreflight(deps: Deps, input: PreflightInput): Promise<void> {
  const failures = await preflightChecks(deps, input);
  if (failures.length) throw new PreflightError(failures);
}
