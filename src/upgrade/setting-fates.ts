/**
 * Every setting's fate, per hop: the install's settings before and after the hop, each carried
 * unchanged, changed (by --deploy-flag, or the upgrade's own image tag), changed by the new
 * version's defaults, dropped (with the reason from the version notes), or needing the user's
 * input (a file the deploy flag reads). Pure; plan.ts puts the rows on each hop, the backup step
 * saves them (settings.json in the hop's directory), the final summary shows them again with
 * what verify found on the redeployed mesh.
 *
 * Sources: the deploySettings table (controlplane/deploy-flags.ts: which value has which flag,
 * when it was removed, whether it is carried) and the version notes (mesh/version-notes.ts).
 * What each path does with a value:
 * - in place (nginx-meshctl upgrade, helm upgrade --reset-then-reuse-values): the release keeps
 *   every value; a value the target's chart no longer reads is dropped all the same;
 * - manual, nginx-meshctl: only values with a deploy flag reach the new mesh (deployFlagsFromValues);
 * - manual, helm: the values file carries everything the target still reads (valuesForTarget).
 */
import { deploySettings, findDeploySetting, parseTyped, type DeploySetting } from '../controlplane/deploy-flags.ts';
import { notesForHop, autoInjectLabel, type Environment } from '../mesh/version-notes.ts';
import { isSecret, type Arg } from '../secret.ts';
import { valueAt } from '../values.ts';
import { isAtLeast } from '../version-compare.ts';
import type { InstallMethod } from '../mesh/detect.ts';

import type { SettingRow } from '../engine/types.ts';

export interface HopSettingsInput {
  from: string;
  to: string;
  strategy: 'in-place' | 'manual';
  method: InstallMethod;
  environment: Environment;
  /** The release values entering this hop (earlier manual hops already translated them). */
  values: Record<string, unknown>;
  /** --deploy-flag changes applied on this hop. */
  changes: Readonly<Record<string, Arg>>;
}

/**
 * Behaviours whose default the target changes, with the version note that says so: a row for
 * every install that crosses it (what it had by default is what changes).
 */
const defaultChanges: readonly { note: string; path: string; before: string; after: string }[] = [
  {
    note: 'auto-injection-opt-in',
    path: 'sidecar injection',
    before: 'every namespace not opted out',
    after: `only namespaces (or pods) labelled ${autoInjectLabel.key}=${autoInjectLabel.enabled}`,
  },
];

function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && !isSecret(v) && Object.keys(v).length === 0)
  );
}

/** The install's settings as dotted paths: a deploySettings path is one setting (even an object); other values down to their leaves. */
export function settingPaths(values: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    const p = prefix ? `${prefix}.${k}` : k;
    const known = deploySettings.some((s) => s.path === p);
    const nested =
      v !== null && typeof v === 'object' && !Array.isArray(v) && !isSecret(v) && Object.keys(v).length > 0;
    if (nested && (!known || deploySettings.some((s) => s.path.startsWith(`${p}.`))))
      out.push(...settingPaths(v as Record<string, unknown>, p));
    else if (!isEmpty(v)) out.push(p);
  }
  return out;
}

const removedBy = (s: DeploySetting | undefined, to: string) =>
  s?.removedIn !== undefined && isAtLeast(to, s.removedIn);

function dropReason(s: DeploySetting, to: string): string {
  return `${to} removed it (${s.reason})`;
}

/** The fate of one value the install has. */
function fateOf(path: string, before: unknown, input: HopSettingsInput): SettingRow {
  const s = deploySettings.find((d) => d.path === path);
  const flag = s?.flag;
  const base = { path, ...(flag ? { flag } : {}), before };
  const changed = flag ? input.changes[flag] : undefined;
  if (removedBy(s, input.to)) {
    if (changed !== undefined)
      return { ...base, fate: 'dropped', reason: `--deploy-flag ${flag} is ignored: ${dropReason(s!, input.to)}` };
    return { ...base, fate: 'dropped', reason: dropReason(s!, input.to) };
  }
  if (changed !== undefined)
    return { ...base, after: parseTyped(s!, changed), fate: 'changed', reason: `--deploy-flag ${flag}` };
  if (path === 'registry.imageTag')
    return { ...base, after: input.to, fate: 'changed', reason: "the upgrade deploys the target version's images" };
  if (input.strategy === 'in-place')
    return { ...base, after: before, fate: 'carried', reason: "the upgrade keeps the release's values" };
  if (input.method === 'helm')
    return { ...base, after: before, fate: 'carried', reason: 'in the values file of helm install' };
  // nginx-meshctl deploy: only what a flag can say reaches the new mesh.
  if (!s || !flag)
    return {
      ...base,
      fate: 'dropped',
      reason: 'nginx-meshctl deploy has no flag for it: set it again after the upgrade (or upgrade with the helm path)',
    };
  // Not carried on purpose: quietly (the image tag, handled above), or because only the user can give it again (a file).
  if (!s.carry)
    return {
      ...base,
      fate: s.quiet ? 'dropped' : 'needs-input',
      reason: s.quiet ? s.reason : `${s.reason} (--deploy-flag ${flag}=FILE)`,
    };
  if (s.type === 'pull-always' && before !== 'Always')
    return {
      ...base,
      fate: 'dropped',
      reason:
        'nginx-meshctl deploy can only set the pull policy to Always (--pull-always); it sets IfNotPresent otherwise',
    };
  if (JSON.stringify(before) === JSON.stringify(s.default) && !isSecret(before))
    return {
      ...base,
      after: before,
      fate: 'carried',
      reason: `the default: nginx-meshctl deploy sets it without --${flag}`,
      atDefault: true,
    };
  return { ...base, after: before, fate: 'carried', reason: `passed to nginx-meshctl deploy as --${flag}` };
}

/** Marks a carried value equal to its chart default. */
function markDefault(r: SettingRow): SettingRow {
  const s = deploySettings.find((d) => d.path === r.path);
  if (
    r.atDefault ||
    r.fate !== 'carried' ||
    !s ||
    isSecret(r.before) ||
    JSON.stringify(r.before) !== JSON.stringify(s.default)
  )
    return r;
  return { ...r, atDefault: true };
}

/** Pure: the rows of one hop, in the order of the install's values, then --deploy-flag additions, then default changes. */
export function hopSettingFates(input: HopSettingsInput): SettingRow[] {
  const rows = settingPaths(input.values).map((p) => markDefault(fateOf(p, valueAt(input.values, p), input)));
  for (const [flag, value] of Object.entries(input.changes)) {
    const s = findDeploySetting(flag);
    if (!s || rows.some((r) => r.path === s.path)) continue;
    const dropped = removedBy(s, input.to);
    rows.push({
      path: s.path,
      flag: s.flag!,
      before: s.default ?? null,
      ...(dropped ? {} : { after: parseTyped(s, value) }),
      fate: dropped ? 'dropped' : 'changed',
      reason: dropped ? `--deploy-flag ${s.flag} is ignored: ${dropReason(s, input.to)}` : `--deploy-flag ${s.flag}`,
    });
  }
  for (const d of defaultChanges) {
    const note = notesForHop(input, input.environment).find((n) => n.id === d.note);
    if (note)
      rows.push({ path: d.path, before: d.before, after: d.after, fate: 'default-changed', reason: note.message });
  }
  return rows;
}

/** The values after a hop, as the next hop starts from them: what was carried or changed (a dropped value is gone). */
export function valuesAfter(rows: readonly SettingRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of rows) {
    if (r.fate === 'default-changed' || r.after === undefined) continue;
    const keys = r.path.split('.');
    let cur = out;
    for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    cur[keys[keys.length - 1]!] = r.after;
  }
  return out;
}

/** Chart value path -> value the redeployed mesh must hold: the rows carried or changed into the new release. */
export function expectedFromFates(rows: readonly SettingRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of rows) {
    const s = deploySettings.find((d) => d.path === r.path);
    // A file's path or a setting only the user can give is not what the release records.
    if (!s || s.file || (!s.carry && !s.quiet)) continue;
    if ((r.fate === 'carried' || r.fate === 'changed') && r.after !== undefined) out[r.path] = r.after;
  }
  return out;
}
