/**
 * The steps of one hop, by method and strategy, with the exact commands each runs. Pure; called
 * by plan.ts. Order per path (NSM upgrade docs, FACTS.md):
 * - every path starts: backup, [clean-leftovers] (hop 1 with --clean-leftovers), [label-namespaces]
 * - in place, meshctl: backup, [label-namespaces], upgrade, restart, verify
 * - in place, helm:    backup, [label-namespaces], apply-crds, upgrade, restart, verify
 * - manual, meshctl:   backup, [label-namespaces], remove (old binary), [restart-unmeshed, wait-sentinel], deploy (new binary), restore, restart, verify
 * - manual, helm:      backup, [label-namespaces], remove (uninstall), delete-crds, [restart-unmeshed, wait-sentinel], deploy (install), restore, restart, verify
 * ([restart-unmeshed, wait-sentinel] on OpenShift only.)
 */
import { commandLineCredentialNote, deployFlagsFromValues, valuesForTarget } from '../controlplane/deploy-flags.ts';
import { helmInstall, helmShowCrds, helmUninstall, helmUpgrade, type ChartRef, type HelmTarget } from '../controlplane/helm.ts';
import { meshctlDeploy, meshctlRemove, meshctlUpgrade, type MeshctlTarget } from '../controlplane/meshctl.ts';
import { valueAt } from '../values.ts';
import { expectedSettings } from '../engine/phases/settings-check.ts';
import { expectedFromFates, hopSettingFates, type SettingRow } from './setting-fates.ts';
import { autoInjectLabel, controlPlaneDeployment } from '../mesh/version-notes.ts';
import { findRelease } from '../mesh/versions.ts';
import type { Command, Install, PlanOptions, Refusal, Step, StepKind, StepOf, Strategy } from '../engine/types.ts';
import type { Arg } from '../secret.ts';
import { childKubeconfigPath } from '../engine/child-kubeconfig.ts';

export interface HopInput {
  index: number;
  from: string;
  to: string;
  strategy: Strategy;
  install: Install;
  opts: PlanOptions;
  /** Namespaces to label before this hop (empty when none or not a hop to 2.0). */
  labelNamespaces: readonly string[];
  /** The release values as they stand before this hop (earlier manual hops translate them). */
  values: Record<string, unknown>;
  /** The install's settings as they enter this hop, for its settings table (what earlier hops carried; default: values). */
  settingsValues?: Record<string, unknown>;
  /** Deploy flag changes applied on this hop (only on the hop that carries them). */
  deployFlagChanges: Readonly<Record<string, Arg>>;
}

export interface HopOutput {
  steps: Step[];
  /** Lines to show as warnings (dropped settings, pinned image tags). */
  notes: string[];
  refusals: Refusal[];
  /** The install's settings before and after this hop. */
  settings: SettingRow[];
}

/** Where nginx-meshctl `version` is found: hints for the refusal when it is not. */
export function meshctlMissingFix(version: string, flag: '--meshctl' | '--meshctl-current'): string {
  return `pass ${flag} PATH for ${version} (or a directory containing nginx-meshctl-${version} or ${version}/nginx-meshctl), or install nginx-meshctl ${version} on PATH as nginx-meshctl-${version}, nginx-meshctl-v${version} or nginx-meshctl`;
}

/** The chart of a hop's target, or a refusal. */
export function chartForHop(opts: PlanOptions, to: string, hopCount: number): ChartRef | Refusal {
  const c = opts.chart;
  if (c.kind === 'repo') {
    const chartVersion = findRelease(to)?.chartVersion;
    if (!chartVersion) return { id: 'chart-version-unknown', message: `no chart version is recorded for NSM ${to}`, fix: 'pass --chart with a local chart directory for that version' };
    return { ref: c.ref, version: chartVersion };
  }
  if (c.kind === 'versioned-dir') return { ref: `${c.dir}/${to}` };
  if (hopCount > 1 || c.version !== to) {
    return { id: 'chart-single-version', message: `--chart ${c.path} holds NSM ${c.version} only, but this hop goes to ${to}`, fix: 'pass --chart with a repository reference, or a directory holding one chart per version (<dir>/<version>/Chart.yaml)' };
  }
  return { ref: c.path };
}

const isRefusal = (x: ChartRef | Refusal): x is Refusal => 'fix' in x;

function step<K extends StepKind>(hop: number, kind: K, title: string, flags: { destructive?: boolean; writes?: boolean }, commands: Command[], params: StepOf<K>['params']): Step {
  return { id: `hop${hop}.${kind}`, kind, title, destructive: flags.destructive ?? false, writes: flags.writes ?? true, commands, params } as StepOf<K>;
}

/** Builds one hop's steps. */
export function hopSteps(h: HopInput, hopCount: number): HopOutput {
  const { index: n, from, to, install, opts } = h;
  const ns = install.namespace;
  const notes: string[] = [];
  const refusals: Refusal[] = [];
  const hopDir = `${opts.backupDir}/hop${n}`;
  const steps: Step[] = [
    step(n, 'backup', `Back up the mesh's custom resources and configuration (NSM ${from})`, { writes: false }, [], { dir: hopDir, namespace: ns, meshVersion: from }),
  ];
  // After the backup (a CRD it labels is deleted by the removal only once its objects are saved), before anything that creates pods.
  if (n === 1 && opts.cleanLeftovers) {
    const found = [...(opts.leftovers ?? [])];
    steps.push(step(n, 'clean-leftovers', `Clear what earlier removals left behind (${found.length ? found.map((l) => l.what).join('; ') : 'none found when planning; looked for again'})`, { destructive: true }, [],
      { namespace: ns, found }));
  }
  if (h.labelNamespaces.length > 0) {
    steps.push(step(n, 'label-namespaces', `Label ${h.labelNamespaces.length} namespace(s) ${autoInjectLabel.key}=${autoInjectLabel.enabled} (2.0 injection is opt-in)`, {}, [],
      { namespaces: [...h.labelNamespaces], label: { [autoInjectLabel.key]: autoInjectLabel.enabled } }));
  }

  const meshctl = (version: string, flag: '--meshctl' | '--meshctl-current'): MeshctlTarget => {
    const bin = opts.meshctlBinaries[version];
    if (!bin) refusals.push({ id: 'meshctl-missing', message: `hop ${n} (${from} -> ${to}) needs nginx-meshctl ${version}, which was not given and is not on PATH`, fix: meshctlMissingFix(version, flag) });
    return { bin: bin ?? `nginx-meshctl-${version}`, namespace: ns, timeout: opts.timeout, kubeconfig: childKubeconfigPath(opts.backupDir) };
  };
  let helm: HelmTarget | undefined;
  let chart: ChartRef = { ref: '' };
  const release = install.release ?? 'nsm';
  if (install.method === 'helm') {
    if (!opts.helm) refusals.push({ id: 'helm-missing', message: 'the mesh was installed with helm, but no usable helm binary (Helm 3 or 4) was found', fix: 'pass --helm PATH to a Helm 3 or Helm 4 binary' });
    helm = { bin: opts.helm?.bin ?? 'helm', major: opts.helm?.major ?? 3, namespace: ns, timeout: opts.timeout, kubeconfig: childKubeconfigPath(opts.backupDir), context: opts.context };
    const c = chartForHop(opts, to, hopCount);
    if (isRefusal(c)) refusals.push(c); else chart = c;
  }
  // The environment detect settled on (values, or --method/hints) is what the redeploy must use.
  const carried = h.values.environment === undefined && install.environment === 'kubernetes' ? h.values : { ...h.values, environment: install.environment };
  const crds = { labelSelector: 'app.kubernetes.io/part-of=nginx-service-mesh' };
  const shown = h.settingsValues ?? h.values;
  const settings = hopSettingFates({ from, to, strategy: h.strategy, method: install.method, environment: install.environment, changes: h.deployFlagChanges,
    values: shown.environment === undefined && install.environment === 'kubernetes' ? shown : { ...shown, environment: install.environment } });

  if (h.strategy === 'in-place') {
    if (install.method === 'meshctl') {
      const cmd = meshctlUpgrade(meshctl(to, '--meshctl'), { version: to });
      const { ignored: _ignored, ...command } = cmd;
      steps.push(step(n, 'upgrade', `nginx-meshctl ${to} upgrade (in place; CRDs applied by nginx-meshctl)`, { destructive: true }, [command], { version: to, release }));
    } else if (helm) {
      steps.push(step(n, 'apply-crds', `Apply the NSM ${to} chart's CRDs (Helm does not upgrade CRDs)`, {}, [helmShowCrds(helm, chart)], { chart, version: to, ...crds }));
      const set: Record<string, string> = {};
      const pinned = valueAt(h.values, 'registry.imageTag');
      if (pinned !== undefined) {
        set['registry.imageTag'] = to;
        notes.push(`the release pins registry.imageTag=${String(pinned)}; the upgrade sets it to ${to}`);
      }
      steps.push(step(n, 'upgrade', `helm upgrade ${release} to chart ${chart.version ?? chart.ref} (NSM ${to})`, { destructive: true },
        [helmUpgrade(helm, { release, chart, set, atomic: true })], { version: to, release, chart }));
    }
  } else {
    if (install.method === 'meshctl') {
      // The docs: remove with the OLD binary. Hop 1's is --meshctl-current; later hops', the previous hop's target.
      const removeTarget = meshctl(from, from === install.version ? '--meshctl-current' : '--meshctl');
      steps.push(step(n, 'remove', `nginx-meshctl ${from} remove (deletes the control plane and the mesh CRDs with their objects)`, { destructive: true }, [meshctlRemove(removeTarget)], { version: from, release }));
    } else if (helm) {
      steps.push(step(n, 'remove', `helm uninstall ${release}`, { destructive: true }, [helmUninstall(helm, release)], { release }));
      steps.push(step(n, 'delete-crds', 'Delete the mesh CRDs (helm uninstall leaves them; their objects are in the backup)', { destructive: true }, [], crds));
    }
    if (install.environment === 'openshift') {
      steps.push(step(n, 'restart-unmeshed', 'Re-roll injected workloads so no pod keeps a sidecar (the CSI sentinel waits for that)', { destructive: true }, [], { reason: 'openshift-sentinel' }));
      steps.push(step(n, 'wait-sentinel', `Wait until Job csi-driver-sentinel in ${ns} is deleted`, { writes: false }, [], { namespace: ns, job: 'csi-driver-sentinel' }));
    }
    if (install.method === 'meshctl') {
      const flags = deployFlagsFromValues(carried, to, h.deployFlagChanges, hopDir);
      notes.push(...flags.warnings);
      const exposed = commandLineCredentialNote(flags.result, true);
      if (exposed) notes.push(exposed);
      const target = meshctl(to, '--meshctl');
      // undo: how --resume removes a half-installed release of this deploy (deploy-health.ts) before deploying again.
      steps.push(step(n, 'deploy', `nginx-meshctl ${to} deploy with the install's settings`, {}, [meshctlDeploy(target, flags.result)],
        { version: to, files: flags.files.map((f) => ({ path: f.path, content: { secret: f.content } })), undo: meshctlRemove(target), expect: expectedSettings(flags.result) }));
    } else if (helm) {
      const values = valuesForTarget(carried, to, h.deployFlagChanges);
      notes.push(...values.warnings);
      const valuesFile = `${hopDir}/values-${to}.yaml`;
      steps.push(step(n, 'deploy', `helm install ${release} chart ${chart.version ?? chart.ref} (NSM ${to}) with the carried-over values`, {},
        [helmInstall(helm, { release, chart, valuesFile })], { version: to, release, chart, files: [{ path: valuesFile, content: { values: values.result } }], undo: helmUninstall(helm, release), expect: expectedFromFates(settings) }));
    }
    steps.push(step(n, 'restore', `Restore the custom resources from ${hopDir}`, {}, [], { from: hopDir, targetVersion: to }));
  }
  steps.push(step(n, 'restart', `Re-roll injected workloads onto NSM ${to} sidecars`, { destructive: true }, [], { targetVersion: to }));
  steps.push(step(n, 'verify', `Verify: ${controlPlaneDeployment(to)} runs ${to}, custom resources intact, sidecars converged`, { writes: false }, [],
    { version: to, namespace: ns, deployment: controlPlaneDeployment(to), backup: hopDir }));
  return { steps, notes, refusals, settings };
}
