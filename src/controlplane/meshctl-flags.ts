/**
 * What each nginx-meshctl subcommand accepts, so a plan can be checked against the binary that will
 * run it before anything is removed (preflight). Pure.
 *
 * The visible flags come from the binary itself (`<command> --help`, parsed by parseHelpFlags). Cobra
 * leaves hidden and deprecated flags out of --help, yet the binary accepts them: those are listed
 * here per version, read from the vendor source (nsm-reference/meshctl-src/<version>/internal/
 * nginx-meshctl/commands/). 1.6.0 has no source: it follows 1.7.0, with which it shares that code.
 * test/unit/meshctl-help.test.ts checks this list against the captured --help of the real binaries.
 */
import type { Arg } from '../secret.ts';

export type MeshctlCommand = 'deploy' | 'upgrade' | 'remove';

export interface HiddenFlag {
  /** Long name without dashes. */
  flag: string;
  short?: string;
  /** Takes no value (a bool flag: `--flag` or `--flag=false`). */
  bool: boolean;
  /** Where the source hides it. */
  source: string;
}

const deploy17: HiddenFlag[] = [
  {
    flag: 'pull-always',
    short: 'p',
    bool: true,
    source:
      'commands/deploy.go: BoolVarP(&pullPolicy, "pull-always", "p") + MarkHidden; sets registry.imagePullPolicy=Always',
  },
  {
    flag: 'dry-run',
    bool: true,
    source: 'commands/deploy.go: MarkHidden("dry-run"); renders client-only after the mesh-exists check',
  },
  {
    flag: 'cleanup-on-error',
    bool: true,
    source: 'commands/deploy.go: MarkHidden("cleanup-on-error") (default true: a failed deploy runs remove)',
  },
  { flag: 'nginx-mesh-metrics-image', bool: false, source: 'commands/deploy.go: MarkHidden (dev image override)' },
  { flag: 'nginx-mesh-sidecar-image', bool: false, source: 'commands/deploy.go: MarkHidden (dev image override)' },
  { flag: 'nginx-mesh-init-image', bool: false, source: 'commands/deploy.go: MarkHidden (dev image override)' },
  { flag: 'cert-reloader-image', bool: false, source: 'commands/deploy.go: MarkHidden (dev image override)' },
];

const deprecated17: HiddenFlag[] = [
  {
    flag: 'disabled-namespaces',
    bool: false,
    source: '1.7.0 commands/deploy.go: MarkDeprecated("disabled-namespaces") (pflag hides deprecated flags)',
  },
  { flag: 'sample-rate', bool: false, source: '1.7.0 commands/deploy.go: MarkDeprecated("sample-rate")' },
  { flag: 'tracing-backend', bool: false, source: '1.7.0 commands/deploy.go: MarkDeprecated("tracing-backend")' },
  { flag: 'tracing-address', bool: false, source: '1.7.0 commands/deploy.go: MarkDeprecated("tracing-address")' },
];

const globalHidden: HiddenFlag[] = [
  { flag: 'debug', bool: true, source: 'commands/root.go: PersistentFlags().MarkHidden("debug")' },
];

/** Hidden flags per version and command (1.6.0 follows 1.7.0: no source, same code). */
const hidden: Record<'1.x' | '2.x', Record<MeshctlCommand, HiddenFlag[]>> = {
  '1.x': {
    deploy: [
      ...deploy17,
      {
        flag: 'nginx-mesh-api-image',
        bool: false,
        source: '1.7.0 commands/deploy.go: MarkHidden (dev image override)',
      },
      ...deprecated17,
      ...globalHidden,
    ],
    upgrade: [
      {
        flag: 'dry-run',
        bool: true,
        source: '1.7.0 commands/upgrade.go: MarkHidden("dry-run"); Helm upgrade with DryRun, CRDs untouched',
      },
      ...globalHidden,
    ],
    remove: [
      { flag: 'environment', bool: false, source: 'commands/remove.go: MarkDeprecated("environment")' },
      ...globalHidden,
    ],
  },
  '2.x': {
    deploy: [
      ...deploy17,
      {
        flag: 'nginx-mesh-controller-image',
        bool: false,
        source: '2.0.0 commands/deploy.go: MarkHidden (dev image override)',
      },
      ...globalHidden,
    ],
    upgrade: [
      {
        flag: 'dry-run',
        bool: true,
        source:
          '2.0.0 commands/upgrade.go: MarkHidden("dry-run"); NOTE it still updates the CRDs (upgradeCRDs runs first)',
      },
      ...globalHidden,
    ],
    remove: [
      { flag: 'environment', bool: false, source: 'commands/remove.go: MarkDeprecated("environment")' },
      ...globalHidden,
    ],
  },
};

/** The hidden flags `command` of nginx-meshctl `version` accepts. */
export function hiddenFlags(version: string, command: MeshctlCommand): readonly HiddenFlag[] {
  return hidden[version.replace(/^v/, '').startsWith('1.') ? '1.x' : '2.x'][command];
}

export interface FlagSpec {
  /** Long names without dashes. */
  long: Set<string>;
  /** Short letter -> long name. */
  short: Map<string, string>;
  /** Long names that take no value. */
  bool: Set<string>;
}

/**
 * Flags in cobra's --help text: lines like `  -k, --kubeconfig string   ...` or
 * `      --enable-udp   ...` under "Flags:" and "Global Flags:". A flag followed by a type word
 * takes a value; one without is a bool.
 */
export function parseHelpFlags(help: string): FlagSpec {
  const spec: FlagSpec = { long: new Set(), short: new Map(), bool: new Set() };
  for (const line of help.split('\n')) {
    const m = /^\s+(?:-(\w), )?--([\w-]+)(?: (\w+))?(?:\s{2,}|$)/.exec(line);
    if (!m) continue;
    spec.long.add(m[2]!);
    if (m[1]) spec.short.set(m[1], m[2]!);
    if (!m[3]) spec.bool.add(m[2]!);
  }
  return spec;
}

/** --help flags plus the hidden ones of that version and command. */
export function acceptedFlags(help: string, version: string, command: MeshctlCommand): FlagSpec {
  const spec = parseHelpFlags(help);
  for (const h of hiddenFlags(version, command)) {
    spec.long.add(h.flag);
    if (h.short) spec.short.set(h.short, h.flag);
    if (h.bool) spec.bool.add(h.flag);
  }
  return spec;
}

/** The subcommand of an nginx-meshctl argument list (globals come first: `-n NS -t T deploy ...`). */
export function subcommandOf(args: readonly Arg[]): MeshctlCommand | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]!); // a Secret is a flag's value, never a flag
    if (a.startsWith('-')) {
      if (!a.includes('=') && ['-k', '-n', '-t', '--kubeconfig', '--namespace', '--timeout'].includes(a)) i++;
      continue;
    }
    return a === 'deploy' || a === 'upgrade' || a === 'remove' ? a : undefined;
  }
  return undefined;
}

/** The flags in `args` (`--name`, `--name=v`, `-x`) that `spec` does not have, as written. */
export function unknownFlags(args: readonly Arg[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]!); // a Secret is a flag's value, never a flag
    if (a === '--') break;
    if (a.startsWith('--')) {
      const name = a.slice(2).split('=', 1)[0]!;
      if (!spec.long.has(name)) {
        out.push(`--${name}`);
        continue;
      }
      if (!a.includes('=') && !spec.bool.has(name)) i++;
    } else if (/^-\w/.test(a)) {
      const letter = a[1]!;
      const long = spec.short.get(letter);
      if (!long) {
        out.push(`-${letter}`);
        continue;
      }
      if (a.length === 2 && !spec.bool.has(long)) i++;
    }
  }
  return out;
}
