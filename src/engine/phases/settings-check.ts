/**
 * Every setting a manual (remove + deploy) upgrade carried must be on the redeployed mesh: the
 * deploy step records what its flags set (expectedSettings, pure), and verify compares that with
 * the new release's values and, on 2.0, with the MeshConfig nginx-mesh-config the chart renders
 * from them (2.0.0 helm-chart/templates/nginx-mesh-controller.yaml). Settings the target has no
 * flag for never reach here: the plan already dropped them with a warning.
 */
import type { Deps } from '../../deps.ts';
import { findDeploySetting, parseTyped } from '../../controlplane/deploy-flags.ts';
import { KubeApiError } from '../../kube/client.ts';
import { objectPath } from '../../kube/paths.ts';
import { valueAt } from '../../values.ts';
import { compareVersions } from '../../version-compare.ts';
import { installedNow } from '../../mesh/live-state.ts';
import { isSecret, type Arg } from '../../secret.ts';

/** Pure: chart value path -> value, for each setting a deploy flag list sets (credentials and files are never in it). */
export function expectedSettings(flags: readonly Arg[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < flags.length; i++) {
    const a = flags[i]!;
    if (typeof a !== 'string' || !a.startsWith('--')) continue;
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const s = findDeploySetting(name);
    if (!s) continue;
    const bool = s.type === 'bool' || s.type === 'pull-always';
    const text = inline ?? (bool ? 'true' : (flags[++i] ?? ''));
    if (s.type === 'pull-always') {
      if (text === 'true') out[s.path] = 'Always';
      continue;
    }
    if (s.file) continue; // a file path on the command line, not the value
    out[s.path] = parseTyped(s, text);
  }
  return out;
}

/** The values the 2.0 chart copies into MeshConfig nginx-mesh-config's spec, under the same paths. */
export const meshConfigPaths = [
  'accessControlMode',
  'clientMaxBodySize',
  'mtls.caKeyType',
  'mtls.caTTL',
  'mtls.mode',
  'mtls.svidTTL',
  'nginxErrorLogLevel',
  'nginxLBMethod',
  'nginxLogFormat',
  'prometheusAddress',
  'telemetry.exporters.otlp',
  'telemetry.samplerRatio',
] as const;

/** Numbers go through float32 in nginx-meshctl (0.1 -> 0.10000000149011612): compare them loosely. */
function sameValue(a: unknown, b: unknown): boolean {
  if (isSecret(a) || isSecret(b)) return (isSecret(a) ? a.reveal() : a) === (isSecret(b) ? b.reveal() : b);
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-6;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Pure: one line per expected setting that `where` does not hold. */
export function settingMismatches(
  expected: Readonly<Record<string, unknown>>,
  actual: Record<string, unknown>,
  where: string,
  paths?: readonly string[],
): string[] {
  return Object.entries(expected)
    .filter(([p]) => !paths || paths.includes(p))
    .filter(([p, v]) => !sameValue(valueAt(actual, p), v))
    .map(([p, v]) =>
      isSecret(v)
        ? `setting ${p}: ${where} does not hold the carried credential (values not shown)`
        : `setting ${p}: expected ${JSON.stringify(v)}, ${where} has ${JSON.stringify(valueAt(actual, p)) ?? 'nothing'}`,
    );
}

/** Reads the new release (and on 2.0 the MeshConfig) and lists every carried setting that did not arrive. */
export async function checkCarriedSettings(
  deps: Deps,
  opts: {
    namespace: string;
    release: string | undefined;
    version: string;
    expected: Readonly<Record<string, unknown>>;
  },
): Promise<string[]> {
  if (Object.keys(opts.expected).length === 0) return [];
  const now = await installedNow(deps, opts.namespace, opts.release);
  if (!now) return [`no release to check the carried settings on in ${opts.namespace}`];
  const out = settingMismatches(opts.expected, now.values, `release ${now.release ?? '?'}`);
  if (compareVersions(opts.version, '2.0.0') >= 0) {
    const path = objectPath(
      { group: 'nsm.nginx.com', version: 'v1alpha2', plural: 'meshconfigs', namespaced: true },
      'nginx-mesh-config',
      opts.namespace,
    );
    try {
      const mc = await deps.kube.request<{ spec?: Record<string, unknown> }>({ path });
      out.push(...settingMismatches(opts.expected, mc.spec ?? {}, 'MeshConfig nginx-mesh-config', meshConfigPaths));
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      out.push(
        `MeshConfig nginx-mesh-config is missing in ${opts.namespace}: the carried runtime settings cannot be checked`,
      );
    }
  }
  return out;
}
