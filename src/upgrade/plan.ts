/**
 * The upgrade plan: Install + PlanOptions -> Plan. PURE: no I/O, no clock, no environment; the
 * same input always gives the same plan. The executor walks the plan's steps; `plan` and
 * `--dry-run` print it.
 *
 * Rules (FACTS.md, "Releases and upgrade rules"):
 * - one hop per minor version (1.5 -> 1.6 -> 1.7 -> 2.0), never skipping one;
 * - strategy per hop: in place by default; manual for --strategy manual, for the hop that carries
 *   changed deploy settings, and always where a version note says so (1.6 -> 1.7 on OpenShift),
 *   where --strategy in-place is refused;
 * - warnings from the version notes, listing what this install has that is affected.
 */
import { childKubeconfigPath, pinnedChildren } from '../engine/child-kubeconfig.ts';
import { unknownDeployFlags, valuesForTarget } from '../controlplane/deploy-flags.ts';
import { valueAt } from '../values.ts';
import { legacyTracingPaths, notesForHop, type VersionNote } from '../mesh/version-notes.ts';
import { findRelease, hopsBetween, oldestSupportedSource, releases } from '../mesh/versions.ts';
import { compareVersions, normalizeVersion } from '../version-compare.ts';
import { hopSteps } from './hop-steps.ts';
import { valuesAfter } from './setting-fates.ts';
import type { Hop, Install, Plan, PlanOptions, PlanWarning, Refusal, Strategy } from '../engine/types.ts';

const knownTargets = () =>
  releases
    .filter((r) => r.chartVersion !== undefined)
    .map((r) => r.version)
    .join(', ');

/** Refusals about the versions themselves; when any, there are no hops to plan. */
function versionRefusals(from: string, to: string | undefined, toText: string): Refusal[] {
  if (to === undefined || !findRelease(to)) {
    return [
      {
        id: 'unknown-version',
        message: `--to ${toText} is not an NGINX Service Mesh release`,
        fix: `pass --to with one of: ${knownTargets()}`,
      },
    ];
  }
  if (!findRelease(to)?.chartVersion) {
    return [
      {
        id: 'unsupported-target',
        message: `--to ${to} is older than the releases this tool upgrades to`,
        fix: `pass --to with one of: ${knownTargets()}`,
      },
    ];
  }
  if (compareVersions(from, oldestSupportedSource) < 0) {
    return [
      {
        id: 'unsupported-source',
        message: `the installed NSM ${from} is older than ${oldestSupportedSource}, the oldest this tool upgrades from`,
        fix: `upgrade to ${oldestSupportedSource} first with nginx-meshctl ${oldestSupportedSource} (see the NSM ${oldestSupportedSource} upgrade guide), then run again`,
      },
    ];
  }
  if (compareVersions(to, from) < 0) {
    return [
      {
        id: 'downgrade',
        message: `--to ${to} is lower than the installed ${from}: NSM cannot be downgraded`,
        fix: `pass --to ${from} or later (restore an older mesh from a backup with remove, deploy and \`kubectl nsm-upgrade restore\`)`,
      },
    ];
  }
  return [];
}

/** How a hop runs, and why. */
export function chooseStrategy(
  opts: Pick<PlanOptions, 'strategy'>,
  notes: readonly VersionNote[],
  carriesDeployChanges: boolean,
  changes: readonly string[],
): { strategy: Strategy; reason: string; refusal?: Refusal } {
  const forcing = notes.find((n) => n.effect === 'manual');
  if (forcing) {
    const refusal =
      opts.strategy === 'in-place'
        ? {
            id: 'in-place-refused',
            message: `--strategy in-place is not possible here: ${forcing.message}`,
            fix: 'use --strategy manual (or leave --strategy out)',
          }
        : undefined;
    return { strategy: 'manual', reason: forcing.message, ...(refusal ? { refusal } : {}) };
  }
  if (carriesDeployChanges) {
    const flags = changes.map((c) => `--${c}`).join(', ');
    if (opts.strategy === 'in-place') {
      return {
        strategy: 'manual',
        reason: `deploy settings change (${flags})`,
        refusal: {
          id: 'in-place-refused',
          message: `changing deploy settings (${flags}) needs the manual path (remove, then deploy)`,
          fix: 'use --strategy manual (or leave --strategy out), or drop --deploy-flag',
        },
      };
    }
    return {
      strategy: 'manual',
      reason: `deploy settings change (${flags}): in-place upgrades reuse the old settings, so the mesh is removed and deployed again`,
    };
  }
  if (opts.strategy === 'manual') return { strategy: 'manual', reason: '--strategy manual' };
  if (opts.strategy === 'in-place') return { strategy: 'in-place', reason: '--strategy in-place' };
  return { strategy: 'in-place', reason: 'in place by default: keeps the custom resources and mesh configuration' };
}

/** The install's settings a note affects (empty: the note needs no mention for this install). */
function affected(note: VersionNote, values: Record<string, unknown>, opts: PlanOptions): string[] | undefined {
  const present = (paths: readonly string[]) =>
    paths
      .filter((p) => {
        const v = valueAt(values, p);
        return (
          v !== undefined &&
          v !== '' &&
          v !== false &&
          !(Array.isArray(v) && v.length === 0) &&
          !(typeof v === 'object' && v !== null && Object.keys(v).length === 0)
        );
      })
      .map((p) => `${p}=${JSON.stringify(valueAt(values, p))}`);
  switch (note.id) {
    case 'tracing-dropped': {
      const items = present(legacyTracingPaths);
      return items.length ? items : undefined;
    }
    case 'deploy-flags-removed': {
      const items = present([
        'disableAutoInjection',
        'enabledNamespaces',
        'autoInjection.disable',
        'autoInjection.disabledNamespaces',
        'autoInjection.enabledNamespaces',
        ...legacyTracingPaths,
      ]);
      return items.length ? items : undefined;
    }
    case 'auto-injection-opt-in':
      return opts.unlabelledInjectedNamespaces.length ? [...opts.unlabelledInjectedNamespaces] : undefined;
    default:
      return [];
  }
}

function noteMessage(note: VersionNote, hop: Hop, opts: PlanOptions): string {
  if (note.id !== 'auto-injection-opt-in') return note.message;
  const next = opts.labelNamespaces
    ? `step hop${hop.index}.label-namespaces labels them before the upgrade`
    : 'pass --label-namespaces to label them before the upgrade';
  return `${note.message}; namespaces with injected workloads and no opt-in label: ${next}`;
}

/** Builds the plan. Never throws for bad input: problems become refusals. */
export function buildPlan(install: Install, opts: PlanOptions): Plan {
  const from = install.version;
  const to = normalizeVersion(opts.to);
  const refusals: Refusal[] = versionRefusals(from, to, opts.to);
  const warnings: PlanWarning[] = install.warnings.map((m) => ({
    id: 'detect',
    hop: undefined,
    message: m,
    items: [],
  }));
  const base = {
    from,
    to: to ?? opts.to,
    namespace: install.namespace,
    method: install.method,
    environment: install.environment,
    release: install.release,
  };
  if (refusals.length > 0 || to === undefined) return { ...base, hops: [], warnings, refusals };

  const unknown = unknownDeployFlags(opts.deployFlagChanges);
  for (const f of unknown)
    refusals.push({
      id: 'unknown-deploy-flag',
      message: `--deploy-flag ${f} is not an nginx-meshctl deploy setting`,
      fix: 'see `nginx-meshctl deploy --help` for the settings, and pass them as --deploy-flag NAME=VALUE',
    });
  const changes = Object.keys(opts.deployFlagChanges).filter((f) => !unknown.includes(f));

  const pairs = hopsBetween(from, to);
  if (pairs.length === 0)
    warnings.push({
      id: 'already-at-target',
      hop: undefined,
      message: `the mesh already runs ${from}; nothing to upgrade`,
      items: [],
    });
  const hops: Hop[] = [];
  let values = install.values;
  // What each hop's settings table starts from: what the hops before it carried.
  let settingsValues = install.values;
  pairs.forEach((p, i) => {
    const index = i + 1;
    const isLast = index === pairs.length;
    const notes = notesForHop(p, install.environment);
    const choice = chooseStrategy(opts, notes, isLast && changes.length > 0, changes);
    if (choice.refusal)
      refusals.push({ ...choice.refusal, message: `hop ${index} (${p.from} -> ${p.to}): ${choice.refusal.message}` });
    const labels =
      notes.some((n) => n.id === 'auto-injection-opt-in') && opts.labelNamespaces
        ? opts.unlabelledInjectedNamespaces
        : [];
    const out = hopSteps(
      {
        index,
        from: p.from,
        to: p.to,
        strategy: choice.strategy,
        install,
        opts,
        labelNamespaces: labels,
        values,
        settingsValues,
        deployFlagChanges: isLast ? Object.fromEntries(changes.map((c) => [c, opts.deployFlagChanges[c]!])) : {},
      },
      pairs.length,
    );
    const hop: Hop = {
      index,
      from: p.from,
      to: p.to,
      strategy: choice.strategy,
      reason: choice.reason,
      method: install.method,
      steps: out.steps,
      settings: out.settings,
    };
    hops.push(hop);
    for (const r of out.refusals) if (!refusals.some((x) => x.id === r.id && x.fix === r.fix)) refusals.push(r);
    for (const note of notes) {
      if (note.effect === 'manual') continue; // shown as the hop's strategy reason
      const items = affected(note, values, opts);
      if (items === undefined) continue;
      warnings.push({ id: note.id, hop: index, message: noteMessage(note, hop, opts), items });
    }
    for (const line of out.notes) warnings.push({ id: 'carry-over', hop: index, message: line, items: [] });
    // A redeploy carries only what the target keeps: later hops see the translated values.
    if (choice.strategy === 'manual') values = valuesForTarget(values, p.to).result;
    settingsValues = valuesAfter(out.settings);
  });
  const used = new Set(hops.flatMap((h) => h.steps.flatMap((s) => s.commands.map((c) => c.bin))));
  const binaries = Object.entries(opts.meshctlFound ?? {})
    .filter(([, b]) => used.has(b.path))
    .map(([version, b]) => ({ version, path: b.path, why: b.why }));
  const child = pinnedChildren(childKubeconfigPath(opts.backupDir), opts.context, hops);
  const leftovers = opts.leftovers?.length ? { leftovers: [...opts.leftovers] } : {};
  const pruning = {
    ...(opts.acceptPruning ? { acceptPruning: true as const } : {}),
    ...(opts.deleteForeignObjects ? { deleteForeignObjects: true as const } : {}),
  };
  return {
    ...base,
    hops,
    warnings,
    refusals,
    ...leftovers,
    ...pruning,
    ...(binaries.length ? { binaries } : {}),
    ...child,
  };
}
