/**
 * Phase: the control plane. The steps that upgrade it in place (nginx-meshctl upgrade; the target
 * chart's CRDs, then helm upgrade), remove it (nginx-meshctl remove with the installed version's
 * binary; helm uninstall), deploy it (nginx-meshctl deploy with the carried settings; helm install
 * with a 0600 values file) or roll a Helm release back; the binaries and flags they run with; and
 * their executors, each idempotent (a resume recognises what is already done).
 */
import { commandLineCredentialNote, deployFlagsFromValues } from '../../controlplane/deploy-flags.ts';
import {
  helmInstall,
  helmRollback,
  helmShowCrds,
  helmUninstall,
  helmUpgrade,
  type ChartRef,
  type HelmTarget,
} from '../../controlplane/helm.ts';
import { meshctlDeploy, meshctlRemove, meshctlUpgrade, type MeshctlTarget } from '../../controlplane/meshctl.ts';
import type { Arg } from '../../secret.ts';
import { checkDeployed } from '../../mesh/deploy-health.ts';
import { installedNow, waitForHelmIdle, waitForNamespaceSettled } from '../../mesh/live-state.ts';
import { meshCrdSelector } from '../../mesh/catalog.ts';
import { finishRemoval, waitForNoMeshTrace } from '../../leftovers/mesh-traces.ts';
import { childKubeconfigPath } from '../child-kubeconfig.ts';
import { step, type Executors } from '../step.ts';
import { runStepCommands } from '../step-commands.ts';
import { writeStepFiles } from '../step-files.ts';
import type { ChartSource, CommandInputs, Refusal } from '../types.ts';
import { findRelease } from '../../mesh/versions.ts';
import { expectedSettings } from './settings-check.ts';
import { leftoversBeforeDeploy } from './leftovers.ts';
import type { StepContext } from '../step-context.ts';

/** Where nginx-meshctl `version` is found: hints for the refusal when it is not. */
export function meshctlMissingFix(version: string, flag: '--meshctl' | '--meshctl-current'): string {
  return `pass ${flag} PATH for ${version} (or a directory containing nginx-meshctl-${version} or ${version}/nginx-meshctl), or install nginx-meshctl ${version} on PATH as nginx-meshctl-${version}, nginx-meshctl-v${version} or nginx-meshctl`;
}

/** The chart of a hop's target (`--chart` as given), or a refusal. */
export function chartForHop(chart: ChartSource, to: string, hopCount: number): ChartRef | Refusal {
  if (chart.kind === 'repo') {
    const chartVersion = findRelease(to)?.chartVersion;
    if (!chartVersion)
      return {
        id: 'chart-version-unknown',
        message: `no chart version is recorded for NSM ${to}`,
        fix: 'pass --chart with a local chart directory for that version',
      };
    return { ref: chart.ref, version: chartVersion };
  }
  if (chart.kind === 'versioned-dir') return { ref: `${chart.dir}/${to}` };
  if (hopCount > 1 || chart.version !== to) {
    return {
      id: 'chart-single-version',
      message: `--chart ${chart.path} holds NSM ${chart.version} only, but this hop goes to ${to}`,
      fix: 'pass --chart with a repository reference, or a directory holding one chart per version (<dir>/<version>/Chart.yaml)',
    };
  }
  return { ref: chart.path };
}

export const isRefusal = (x: ChartRef | Refusal): x is Refusal => 'fix' in x;

/**
 * The binaries a plan's commands run, pointed at the run's private kubeconfig (child-kubeconfig.ts)
 * in `runDir`; a binary the plan needs and does not have becomes a refusal naming `who` needs it.
 */
export function commandTargets(
  inputs: Pick<CommandInputs, 'meshctlBinaries' | 'helm' | 'timeout' | 'context'>,
  p: { namespace: string; runDir: string; who: string },
  refusals: Refusal[],
) {
  const kubeconfig = childKubeconfigPath(p.runDir);
  return {
    meshctl(version: string, flag: '--meshctl' | '--meshctl-current'): MeshctlTarget {
      const bin = inputs.meshctlBinaries[version];
      if (!bin)
        refusals.push({
          id: 'meshctl-missing',
          message: `${p.who} needs nginx-meshctl ${version}, which was not given and is not on PATH`,
          fix: meshctlMissingFix(version, flag),
        });
      return { bin: bin ?? `nginx-meshctl-${version}`, namespace: p.namespace, timeout: inputs.timeout, kubeconfig };
    },
    helm(): HelmTarget {
      if (!inputs.helm)
        refusals.push({
          id: 'helm-missing',
          message: 'the mesh was installed with helm, but no usable helm binary (Helm 3 or 4) was found',
          fix: 'pass --helm PATH to a Helm 3 or Helm 4 binary',
        });
      return {
        bin: inputs.helm?.bin ?? 'helm',
        major: inputs.helm?.major ?? 3,
        namespace: p.namespace,
        timeout: inputs.timeout,
        kubeconfig,
        context: inputs.context,
      };
    },
  };
}

/** In place with nginx-meshctl: `upgrade` applies the CRDs itself. */
export function meshctlUpgradeStep(n: number, target: MeshctlTarget, p: { to: string; release: string }) {
  const { ignored: _ignored, ...command } = meshctlUpgrade(target, { version: p.to });
  return step(
    n,
    'upgrade',
    `nginx-meshctl ${p.to} upgrade (in place; CRDs applied by nginx-meshctl)`,
    { destructive: true },
    [command],
    { version: p.to, release: p.release },
  );
}

/** In place with Helm: the target chart's CRDs through the API (Helm does not upgrade CRDs), then helm upgrade --atomic. */
export function helmUpgradeSteps(
  n: number,
  helm: HelmTarget,
  p: { to: string; release: string; chart: ChartRef; set: Readonly<Record<string, string>> },
) {
  return [
    step(
      n,
      'apply-crds',
      `Apply the NSM ${p.to} chart's CRDs (Helm does not upgrade CRDs)`,
      {},
      [helmShowCrds(helm, p.chart)],
      { chart: p.chart, version: p.to, labelSelector: meshCrdSelector },
    ),
    step(
      n,
      'upgrade',
      `helm upgrade ${p.release} to chart ${p.chart.version ?? p.chart.ref} (NSM ${p.to})`,
      { destructive: true },
      [helmUpgrade(helm, { release: p.release, chart: p.chart, set: p.set, atomic: true })],
      { version: p.to, release: p.release, chart: p.chart },
    ),
  ];
}

/** nginx-meshctl remove with the installed version's binary (the docs: remove with the old binary). */
export function meshctlRemoveStep(n: number, target: MeshctlTarget, p: { version: string; release: string }) {
  return step(
    n,
    'remove',
    `nginx-meshctl ${p.version} remove (deletes the control plane and the mesh CRDs; their objects are in the backup)`,
    { destructive: true },
    [meshctlRemove(target)],
    p,
  );
}

export function helmUninstallStep(n: number, helm: HelmTarget, release: string) {
  return step(n, 'remove', `helm uninstall ${release}`, { destructive: true }, [helmUninstall(helm, release)], {
    release,
  });
}

/**
 * nginx-meshctl deploy with the settings of `values` (and the changes asked for), as flags; a
 * registry key goes in a 0600 file; `notes` say what cannot be carried, `credentialNote` that the
 * registry password is on the command line (`alternatives`: name the ways around it).
 */
export function meshctlDeployStep(
  n: number,
  target: MeshctlTarget,
  p: {
    to: string;
    values: Record<string, unknown>;
    changes: Readonly<Record<string, Arg>>;
    fileDir: string;
    whose: string;
    alternatives: boolean;
  },
) {
  const flags = deployFlagsFromValues(p.values, p.to, p.changes, p.fileDir);
  const exposed = commandLineCredentialNote(flags.result, p.alternatives);
  // undo: how --resume removes a half-installed release of this deploy (deploy-health.ts) before deploying again.
  const s = step(
    n,
    'deploy',
    `nginx-meshctl ${p.to} deploy with the ${p.whose} settings`,
    {},
    [meshctlDeploy(target, flags.result)],
    {
      version: p.to,
      files: flags.files.map((f) => ({ path: f.path, content: { secret: f.content } })),
      undo: meshctlRemove(target),
      expect: expectedSettings(flags.result),
    },
  );
  return { step: s, notes: flags.warnings, credentialNote: exposed };
}

/** helm install with `values` in a 0600 file (credentials never on a command line). */
export function helmInstallStep(
  n: number,
  helm: HelmTarget,
  p: {
    to: string;
    release: string;
    chart: ChartRef;
    values: Record<string, unknown>;
    valuesFile: string;
    expect: Record<string, unknown>;
    whose: string;
  },
) {
  return step(
    n,
    'deploy',
    `helm install ${p.release} chart ${p.chart.version ?? p.chart.ref} (NSM ${p.to}) with the ${p.whose} values`,
    {},
    [helmInstall(helm, { release: p.release, chart: p.chart, valuesFile: p.valuesFile })],
    {
      version: p.to,
      release: p.release,
      chart: p.chart,
      files: [{ path: p.valuesFile, content: { values: p.values } }],
      undo: helmUninstall(helm, p.release),
      expect: p.expect,
    },
  );
}

export function helmRollbackStep(n: number, helm: HelmTarget, p: { release: string; revision: number; to: string }) {
  return step(
    n,
    'helm-rollback',
    `helm rollback ${p.release} to revision ${p.revision} (NSM ${p.to})`,
    { destructive: true },
    [helmRollback(helm, { release: p.release, revision: p.revision })],
    { release: p.release, revision: p.revision, version: p.to },
  );
}

/** The running mesh, once the release is not mid-change (a killed run's helm may still be working). */
async function settledInstall(ctx: StepContext) {
  await waitForHelmIdle(ctx.deps, ctx.plan.namespace, ctx.plan.release, ctx.timeoutMs, ctx.progress, ctx.signal);
  return installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release);
}

/**
 * What a meshctl removal left undone: real nginx-meshctl remove skips deleting the CRDs and the
 * namespace when its uninstall reported an error (a failed hook), and a killed run may stop
 * between the two. Returns the line said, if anything was finished.
 */
async function finishMeshctlRemoval(ctx: StepContext): Promise<string | undefined> {
  if (ctx.hop.method !== 'meshctl') return undefined;
  const done = await finishRemoval(ctx.deps, {
    namespace: ctx.plan.namespace,
    keepNamespace: ctx.plan.environment === 'openshift',
  });
  if (done.length === 0) return undefined;
  const line = `the removal left part of its cleanup undone; deleted it: ${done.join(', ')}`;
  ctx.progress(line);
  return line;
}

export const controlPlaneExecutors: Executors<'upgrade' | 'remove' | 'deploy' | 'helm-rollback'> = {
  async upgrade(ctx) {
    const now = await settledInstall(ctx);
    if (now?.version === ctx.hop.to && now.releaseStatus === 'deployed') return { skipped: `already on ${ctx.hop.to}` };
    await runStepCommands(ctx);
    return {};
  },
  async 'helm-rollback'(ctx) {
    const now = await settledInstall(ctx);
    if (now?.version === ctx.step.params.version && now.releaseStatus === 'deployed')
      return { skipped: `already on ${ctx.step.params.version}` };
    await runStepCommands(ctx);
    return {};
  },
  async remove(ctx) {
    const now = await settledInstall(ctx);
    if (!now) {
      const cleaned = await finishMeshctlRemoval(ctx);
      return { skipped: 'no mesh installed: already removed', ...(cleaned ? { data: { cleaned } } : {}) };
    }
    try {
      await runStepCommands(ctx);
    } catch (err) {
      // Helm deletes the release before running post-delete hooks: when only a hook failed, the mesh is gone.
      if (await installedNow(ctx.deps, ctx.plan.namespace, ctx.plan.release)) throw err;
      const warning = `the removal reported an error, but the mesh is gone: ${(err as Error).message.split('\n').slice(-2).join(' ')}`;
      ctx.progress(warning);
      const cleaned = await finishMeshctlRemoval(ctx);
      return { data: { warning, ...(cleaned ? { cleaned } : {}) } };
    }
    const cleaned = await finishMeshctlRemoval(ctx);
    return cleaned ? { data: { cleaned } } : {};
  },
  async deploy(ctx) {
    // What the removal (or an older one) left that this deploy would trip over: cleared with --clean-leftovers, else the step stops before deploying.
    const cleared = await leftoversBeforeDeploy(ctx.deps, {
      plan: ctx.plan,
      namespace: ctx.plan.namespace,
      release: ctx.plan.release,
      timeoutMs: ctx.timeoutMs,
      progress: ctx.progress,
      signal: ctx.signal,
    });
    await waitForNamespaceSettled(ctx.deps, ctx.plan.namespace, ctx.timeoutMs, ctx.progress, ctx.signal);
    const now = await settledInstall(ctx);
    let redeployed: string | undefined;
    if (now?.version === ctx.hop.to) {
      // A deploy an earlier run started may have failed (release installed, control plane never healthy).
      const verdict = await checkDeployed(ctx.deps, {
        namespace: ctx.plan.namespace,
        version: ctx.hop.to,
        releaseStatus: now.releaseStatus,
        graceMs: Math.min(ctx.timeoutMs, 180_000),
        progress: ctx.progress,
        signal: ctx.signal,
      });
      if (verdict.state === 'healthy') return { skipped: `NSM ${ctx.hop.to} is already deployed` };
      redeployed = `an earlier deploy of NSM ${ctx.hop.to} failed (${verdict.why}): removed the half-installed release and deployed again`;
      ctx.progress(
        `an earlier deploy of NSM ${ctx.hop.to} failed (${verdict.why}): removing the half-installed release, then deploying again`,
      );
      await runStepCommands(ctx, [ctx.step.params.undo]);
      await finishMeshctlRemoval(ctx);
      await waitForNamespaceSettled(ctx.deps, ctx.plan.namespace, ctx.timeoutMs, ctx.progress, ctx.signal);
    }
    // Real nginx-meshctl deploy refuses while any trace of a mesh exists (any namespace): wait, showing what is left.
    // CRDs that no release owns and nobody is deleting (a remove or deploy killed half-way) would never go: delete them.
    if (ctx.hop.method === 'meshctl' && !now && !redeployed) {
      const cleaned = await finishRemoval(ctx.deps, { namespace: ctx.plan.namespace, keepNamespace: true });
      if (cleaned.length) ctx.progress(`deleted what an interrupted removal left: ${cleaned.join(', ')}`);
    }
    if (ctx.hop.method === 'meshctl')
      await waitForNoMeshTrace(ctx.deps, {
        namespace: ctx.plan.namespace,
        timeoutMs: ctx.timeoutMs,
        progress: ctx.progress,
        signal: ctx.signal,
      });
    await writeStepFiles(ctx, ctx.step.params.files);
    await runStepCommands(ctx);
    return redeployed || cleared.length
      ? { data: { ...(redeployed ? { redeployed } : {}), ...(cleared.length ? { cleared } : {}) } }
      : {};
  },
};
