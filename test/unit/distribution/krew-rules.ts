/**
 * krew's plugin manifest rules, as far as they can be checked offline. Sources (krew repository):
 * pkg/index/validation/validate.go (ValidatePlugin, validatePlatform, validateSelector) and
 * cmd/validate-krew-manifest/main.go (name from file name, line lengths, every platform selector
 * matches a supported os/arch, no two platforms select the same os/arch). Installing each platform
 * (what krew-index CI also does) needs the published archives, so it is not checked here.
 */

export interface KrewPlatform {
  selector?: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from: string; to?: string }[];
}
export interface KrewPlugin {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    version?: string;
    homepage?: string;
    shortDescription?: string;
    description?: string;
    caveats?: string;
    platforms?: KrewPlatform[];
  };
}

/** os/arch pairs krew runs on (validate-krew-manifest's list plus the arm64 builds krew ships today). */
export const krewPlatforms: readonly [string, string][] = [
  ['windows', '386'],
  ['windows', 'amd64'],
  ['linux', '386'],
  ['linux', 'amd64'],
  ['linux', 'arm'],
  ['linux', 'arm64'],
  ['darwin', '386'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
];

const windowsForbidden = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  ...Array.from({ length: 9 }, (_, i) => `COM${i + 1}`),
  ...Array.from({ length: 9 }, (_, i) => `LPT${i + 1}`),
];
/** krew's semver.Parse: a "v" prefix, then semver 2.0 (pre-release and build metadata allowed). */
const semverV =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

function selectorMatches(sel: NonNullable<KrewPlatform['selector']>, os: string, arch: string): boolean {
  const labels: Record<string, string> = { os, arch };
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = (e.values ?? []).includes(labels[e.key] ?? '');
    if ((e.operator === 'In' && !has) || (e.operator === 'NotIn' && has)) return false;
  }
  return true;
}

/** Lines longer than max fail unless they are one word (validateLineLength). */
function linesFit(s: string | undefined, max: number): boolean {
  return (s ?? '').split('\n').every((l) => l.length <= max || !l.trim().includes(' '));
}

/** Every rule broken, as messages (empty: valid). `fileName` is the manifest's file name. */
export function krewProblems(fileName: string, p: KrewPlugin): string[] {
  const problems: string[] = [];
  const name = fileName.replace(/\.yaml$/, '');
  if (!fileName.endsWith('.yaml')) problems.push('manifest file must end in .yaml');
  if (p.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2')
    problems.push(`unsupported apiVersion ${p.apiVersion}`);
  if (p.kind !== 'Plugin') problems.push(`kind must be Plugin, not ${p.kind}`);
  if (!/^[\w-]+$/.test(name) || windowsForbidden.includes(name.toUpperCase()))
    problems.push(`plugin name ${name} is not allowed`);
  if (p.metadata?.name !== name)
    problems.push(`plugin should be named ${name} (its file name), not ${p.metadata?.name}`);
  const spec = p.spec ?? {};
  if (!spec.shortDescription) problems.push('should have a short description');
  if (!spec.platforms?.length) problems.push('should have a platform specified');
  if (!spec.version) problems.push('should have a version specified');
  else if (!semverV.test(spec.version)) problems.push(`version ${spec.version} is not semver with a v prefix`);
  if (!linesFit(spec.shortDescription, 70)) problems.push('shortDescription line longer than 70 characters');
  if (!linesFit(spec.description, 80)) problems.push('description line longer than 80 characters');
  if (!linesFit(spec.caveats, 80)) problems.push('caveats line longer than 80 characters');
  (spec.platforms ?? []).forEach((pl, i) => {
    const at = `platforms[${i}]`;
    if (!pl.uri) problems.push(`${at}: URI has to be set`);
    else if (!pl.uri.startsWith('https://')) problems.push(`${at}: uri must be https`);
    if (!pl.sha256) problems.push(`${at}: sha256 sum has to be set`);
    else if (!/^[a-f0-9]{64}$/.test(pl.sha256))
      problems.push(`${at}: sha256 ${pl.sha256} must be 64 lower-case hex digits`);
    if (!pl.bin) problems.push(`${at}: bin has to be set`);
    if (!pl.files?.length) problems.push(`${at}: needs file operations`);
    const sel = pl.selector;
    if (!sel) {
      problems.push(`${at}: nil selector is not supported`);
      return;
    }
    if (!sel.matchLabels && !sel.matchExpressions?.length) problems.push(`${at}: empty selector is not supported`);
    const keys = [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)];
    for (const k of keys) if (k !== 'os' && k !== 'arch') problems.push(`${at}: selector key ${k} not supported`);
    if (sel.matchLabels && Object.keys(sel.matchLabels).length === 0)
      problems.push(`${at}: matchLabels specified but empty`);
    if (!krewPlatforms.some(([os, arch]) => selectorMatches(sel, os, arch)))
      problems.push(`${at}: selector matches no supported platform`);
  });
  for (const [os, arch] of krewPlatforms) {
    const hits = (spec.platforms ?? []).flatMap((pl, i) =>
      pl.selector && selectorMatches(pl.selector, os, arch) ? [i] : [],
    );
    if (hits.length > 1) problems.push(`platforms ${hits.join(', ')} overlap on ${os}/${arch}`);
  }
  return problems;
}
