/**
 * The settings table of a hop (setting-fates.ts), as text: `plan` prints it under each hop, the
 * upgrade's final summary again with what verify found on the redeployed mesh. Secrets print as
 * <redacted> (their JSON form).
 */
import type { Hop, SettingRow } from '../engine/types.ts';

const show = (v: unknown): string =>
  v === undefined ? '-' : typeof v === 'string' && !/^[\s"]|[\s"]$/.test(v) && v !== '' ? v : JSON.stringify(v);

const fateText: Record<SettingRow['fate'], string> = {
  carried: 'carried',
  changed: 'changed',
  'default-changed': 'new default',
  dropped: 'DROPPED',
  'needs-input': 'NEEDS INPUT',
};

/** One line per row: path, before -> after, fate and reason (and a check mark when `checked` says so). */
export function formatSettingRows(
  all: readonly SettingRow[],
  indent: string,
  checked?: (r: SettingRow) => string | undefined,
): string[] {
  const rows = all.filter((r) => !r.atDefault);
  const defaults = all.filter((r) => r.atDefault).map((r) => r.path);
  const tail = defaults.length ? [`${indent}carried at their defaults: ${defaults.join(', ')}`] : [];
  if (rows.length === 0) return tail.length ? tail : [`${indent}(no settings besides the chart's defaults)`];
  const width = Math.min(40, Math.max(...rows.map((r) => r.path.length)));
  return [
    ...rows.map((r) => {
      const after = r.fate === 'dropped' ? '(dropped)' : r.fate === 'needs-input' ? '(needs input)' : show(r.after);
      const check = checked?.(r);
      return `${indent}${r.path.padEnd(width)}  ${show(r.before)} -> ${after}  ${fateText[r.fate]}: ${r.reason}${check ? `  [${check}]` : ''}`;
    }),
    ...tail,
  ];
}

/** The hop's block for `plan`. */
export function formatHopSettings(hop: Hop): string[] {
  if (!hop.settings) return [];
  return [`  Settings (before -> after ${hop.to}):`, ...formatSettingRows(hop.settings, '    ')];
}

/**
 * The final summary's settings block: each hop's table again; on a redeployed hop, each setting
 * carried into the new release is marked with what verify found there (a mismatch is one of the
 * verify step's unresolved items, "setting <path>: ...").
 */
export function formatSettingsSummary(
  hops: readonly Hop[],
  unresolved: readonly { step: string; items: string[] }[],
): string[] {
  const lines: string[] = [];
  for (const hop of hops) {
    if (!hop.settings?.length) continue;
    const deploy = hop.steps.find((s) => s.kind === 'deploy');
    const expected = deploy?.kind === 'deploy' ? deploy.params.expect : {};
    const problems = unresolved.find((u) => u.step === `hop${hop.index}.verify`)?.items ?? [];
    const checked = (r: SettingRow): string | undefined => {
      if (!(r.path in expected)) return undefined;
      return problems.some((p) => p.startsWith(`setting ${r.path}:`)) ? 'NOT on the new mesh' : 'on the new mesh';
    };
    lines.push(
      `  Hop ${hop.index} settings (${hop.from} -> ${hop.to}, ${hop.strategy}):`,
      ...formatSettingRows(hop.settings, '    ', checked),
    );
  }
  return lines;
}
