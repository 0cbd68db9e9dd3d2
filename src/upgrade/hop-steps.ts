/**
 * The steps of one hop, by method and strategy, composed from the phases' step factories
 * (engine/phases/*.ts), with the exact commands each runs. Pure; called by plan.ts. Order per path
 * (NSM upgrade docs, FACTS.md):
 * - every path starts: backup, [clean-leftovers] (hop 1 with --clean-leftovers), [label-namespaces]
 * - in place, meshctl: backup, [label-namespaces], upgrade, restart, verify
 * - in place, helm:    backup, [label-namespaces], apply-crds, upgrade, restart, verify
 * - manual, meshctl:   backup, [label-namespaces], remove (old binary), [restart-unmeshed, wait-sentinel], deploy (new binary), restore, restart, verify
 * - manual, helm:      backup, [label-namespaces], remove (uninstall), delete-crds, [restart-unmeshed, wait-sentinel], deploy (install), restore, restart, verify
 * ([restart-unmeshed, wait-sentinel] on OpenShift only.)
 */
import { valuesForTarget } from '../controlplane/deploy-flags.ts';
import type { ChartRef, HelmTarget } from '../controlplane/helm.ts';
import { valueAt } from '../values.ts';
import { expectedFromFates, hopSettingFates } from './setting-fates.ts';
import type { Install, PlanOptions, Refusal, SettingRow, Step, Strategy } from '../engine/types.ts';
import type { Arg } from '../secret.ts';
import { backupStep } from '../engine/phases/backup.ts';
import { cleanLeftoversStep } from '../engine/phases/leftovers.ts';
import { labelNamespacesStep } from '../engine/phases/namespaces.ts';
import {
  chartForHop,
  commandTargets,
  helmInstallStep,
  helmUninstallStep,
  helmUpgradeSteps,
  isRefusal,
  meshctlDeployStep,
  meshctlRemoveStep,
  meshctlUpgradeStep,
} from '../engine/phases/control-plane.ts';
import { deleteCrdsStep } from '../engine/phases/crds.ts';
import { openshiftSentinelSteps } from '../engine/phases/openshift.ts';
import { restoreStep } from '../engine/phases/restore.ts';
import { restartStep } from '../engine/phases/restart.ts';
import { verifyStep } from '../engine/phases/verify.ts';

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

/** Builds one hop's steps. */
export function hopSteps(h: HopInput, hopCount: number): HopOutput {
  const { index: n, from, to, install, opts } = h;
  const ns = install.namespace;
  const notes: string[] = [];
  const refusals: Refusal[] = [];
  const hopDir = `${opts.backupDir}/hop${n}`;
  const steps: Step[] = [backupStep(n, { dir: hopDir, namespace: ns, meshVersion: from })];
  if (n === 1 && opts.cleanLeftovers) steps.push(cleanLeftoversStep(n, { namespace: ns, found: opts.leftovers ?? [] }));
  if (h.labelNamespaces.length > 0) steps.push(labelNamespacesStep(n, h.labelNamespaces));

  const targets = commandTargets(
    opts,
    { namespace: ns, runDir: opts.backupDir, who: `hop ${n} (${from} -> ${to})` },
    refusals,
  );
  let helm: HelmTarget | undefined;
  let chart: ChartRef = { ref: '' };
  const release = install.release ?? 'nsm';
  if (install.method === 'helm') {
    helm = targets.helm();
    const c = chartForHop(opts.chart, to, hopCount);
    if (isRefusal(c)) refusals.push(c);
    else chart = c;
  }
  // The environment detect settled on (values, or --method/hints) is what the redeploy must use.
  const carried =
    h.values.environment === undefined && install.environment === 'kubernetes'
      ? h.values
      : { ...h.values, environment: install.environment };
  const shown = h.settingsValues ?? h.values;
  const settings = hopSettingFates({
    from,
    to,
    strategy: h.strategy,
    method: install.method,
    environment: install.environment,
    changes: h.deployFlagChanges,
    values:
      shown.environment === undefined && install.environment === 'kubernetes'
        ? shown
        : { ...shown, environment: install.environment },
  });

  if (h.strategy === 'in-place') {
    if (install.method === 'meshctl')
      steps.push(meshctlUpgradeStep(n, targets.meshctl(to, '--meshctl'), { to, release }));
    else if (helm) {
      const set: Record<string, string> = {};
      const pinned = valueAt(h.values, 'registry.imageTag');
      if (pinned !== undefined) {
        set['registry.imageTag'] = to;
        notes.push(
          `the release pins registry.imageTag=${typeof pinned === 'string' ? pinned : JSON.stringify(pinned)}; the upgrade sets it to ${to}`,
        );
      }
      steps.push(...helmUpgradeSteps(n, helm, { to, release, chart, set }));
    }
  } else {
    // The docs: remove with the OLD binary. Hop 1's is --meshctl-current; later hops', the previous hop's target.
    if (install.method === 'meshctl')
      steps.push(
        meshctlRemoveStep(n, targets.meshctl(from, from === install.version ? '--meshctl-current' : '--meshctl'), {
          version: from,
          release,
        }),
      );
    else if (helm) steps.push(helmUninstallStep(n, helm, release), deleteCrdsStep(n));
    if (install.environment === 'openshift') steps.push(...openshiftSentinelSteps(n, ns));
    if (install.method === 'meshctl') {
      const d = meshctlDeployStep(n, targets.meshctl(to, '--meshctl'), {
        to,
        values: carried,
        changes: h.deployFlagChanges,
        fileDir: hopDir,
        whose: "install's",
        alternatives: true,
      });
      notes.push(...d.notes, ...(d.credentialNote ? [d.credentialNote] : []));
      steps.push(d.step);
    } else if (helm) {
      const values = valuesForTarget(carried, to, h.deployFlagChanges);
      notes.push(...values.warnings);
      steps.push(
        helmInstallStep(n, helm, {
          to,
          release,
          chart,
          values: values.result,
          valuesFile: `${hopDir}/values-${to}.yaml`,
          expect: expectedFromFates(settings),
          whose: 'carried-over',
        }),
      );
    }
    steps.push(restoreStep(n, { from: hopDir, to }));
  }
  steps.push(restartStep(n, { to }), verifyStep(n, { to, namespace: ns, backup: hopDir }));
  return { steps, notes, refusals, settings };
}
