/**
 * Gathers the PlanOptions the pure planner needs from the command line and the machine: which
 * nginx-meshctl binaries exist for which versions (--meshctl given once per hop, or a directory
 * of binaries named by version; --meshctl-current for the installed version), the helm binary's
 * major version, where the chart comes from, and (for a hop to 2.0) which injected namespaces lack
 * the opt-in label. Shared by `plan` and the upgrade command so both plan from the same inputs.
 * The matching rules are pure functions (matchMeshctlBinaries, unlabelledInjectedNamespaces).
 */
import type { BinaryOptions, StepTimeout, UpgradeChoices } from '../engine/option-groups.ts';
import path from 'node:path';
import { load } from 'js-yaml';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { helmVersion, parseHelmMajor } from '../controlplane/helm.ts';
import { findDeploySetting } from '../controlplane/deploy-flags.ts';
import { Secret, type Arg } from '../secret.ts';
import { meshctlVersion, parseMeshctlVersion } from '../controlplane/meshctl.ts';
import { autoInjectLabel } from '../mesh/version-notes.ts';
import { crosses, hopsBetween, releases } from '../mesh/versions.ts';
import { normalizeVersion } from '../version-compare.ts';
import { listInjectedPods, namespaceLabels } from '../workloads/discover.ts';
import { isLive, podOptedIn, type PodLike } from '../workloads/injection.ts';
import { findMeshctlOnPath, pathDirectories, resolveCommand, type ChosenBinary } from '../controlplane/meshctl-path.ts';
import type { ChartSource, Install, PlanOptions } from '../engine/types.ts';
import { scanLeftovers } from '../leftovers/scan.ts';
import type { Leftover } from '../leftovers/types.ts';

/** What the caller learned about one --meshctl/--meshctl-current argument. */
export type GivenBinary =
  | {
      kind: 'dir';
      path: string;
      /** Version -> binary path found inside (nginx-meshctl-<v> or <v>/nginx-meshctl). */ found: Record<
        string,
        string
      >;
    }
  | {
      kind: 'file';
      path: string;
      /** From `nginx-meshctl version`; undefined when it did not say. */ version: string | undefined;
    };

/** The names a directory may hold a version's binary under, in preference order. */
export function candidateNames(dir: string, version: string): string[] {
  return [path.join(dir, `nginx-meshctl-${version}`), path.join(dir, version, 'nginx-meshctl')];
}

/**
 * Maps versions to binaries. Files whose version is known go to that version; files that did not
 * say are assigned, in order, to the hop targets still missing ("--meshctl once per hop");
 * directories fill whatever they hold. --meshctl-current fills the installed version.
 */
export function matchMeshctlBinaries(
  given: readonly GivenBinary[],
  current: GivenBinary | undefined,
  installed: string,
  hopTargets: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (current?.kind === 'file') out[installed] = current.path;
  if (current?.kind === 'dir' && current.found[installed]) out[installed] = current.found[installed];
  for (const g of given) if (g.kind === 'file' && g.version && !(g.version in out)) out[g.version] = g.path;
  const unversioned = given.filter((g): g is Extract<GivenBinary, { kind: 'file' }> => g.kind === 'file' && !g.version);
  for (const target of hopTargets) {
    if (target in out) continue;
    const next = unversioned.shift();
    if (next) out[target] = next.path;
  }
  for (const g of given)
    if (g.kind === 'dir') for (const [v, p] of Object.entries(g.found)) if (!(v in out)) out[v] = p;
  return out;
}

async function isFile(deps: Pick<Deps, 'fs'>, p: string): Promise<boolean> {
  try {
    return (await deps.fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function inspect(deps: Pick<Deps, 'fs' | 'exec'>, p: string, versions: readonly string[]): Promise<GivenBinary> {
  let isDir = false;
  try {
    isDir = (await deps.fs.stat(p)).isDirectory();
  } catch {
    /* missing: treated as a file, preflight reports it */
  }
  if (isDir) {
    const found: Record<string, string> = {};
    for (const v of versions) {
      for (const c of candidateNames(p, v))
        if (await isFile(deps, c)) {
          found[v] = c;
          break;
        }
    }
    return { kind: 'dir', path: p, found };
  }
  let version: string | undefined;
  try {
    const res = await deps.exec.run(meshctlVersion(p));
    version = res.exitCode === 0 || res.stdout ? parseMeshctlVersion(res.stdout) : undefined;
  } catch {
    /* not runnable: preflight reports it */
  }
  return { kind: 'file', path: p, version };
}

/** Resolves --meshctl/--meshctl-current for the versions of a chain of hops (installed first). */
export async function resolveMeshctlBinaries(
  deps: Pick<Deps, 'fs' | 'exec'>,
  given: readonly string[],
  current: string | undefined,
  installed: string,
  hopTargets: readonly string[],
): Promise<Record<string, string>> {
  const versions = [installed, ...hopTargets];
  // A path that does not exist is a typo on the command line (bad input, exit 2), not a cluster state.
  for (const [flag, p] of [
    ...given.map((g) => ['--meshctl', g] as const),
    ...(current ? [['--meshctl-current', current] as const] : []),
  ]) {
    try {
      await deps.fs.stat(p);
    } catch {
      throw new UsageError(
        `${flag} ${p}: no such file or directory`,
        `Pass ${flag} PATH with the path of an nginx-meshctl binary (or a directory of them).`,
      );
    }
  }
  // Absolute paths: the plan is journaled, and a resumed run may start from another directory.
  const inspected = await Promise.all(given.map((g) => inspect(deps, path.resolve(g), versions)));
  const cur = current ? await inspect(deps, path.resolve(current), [installed]) : undefined;
  return matchMeshctlBinaries(inspected, cur, installed, hopTargets);
}

/** Pure: namespaces with live injected pods that neither the namespace nor the pod opted in. Sorted. */
export function unlabelledInjectedNamespaces(
  pods: readonly PodLike[],
  labels: ReadonlyMap<string, Record<string, string> | undefined>,
): string[] {
  const out = new Set<string>();
  for (const pod of pods) {
    const ns = pod.metadata?.namespace;
    if (!ns || !isLive(pod) || podOptedIn(pod)) continue;
    if (labels.get(ns)?.[autoInjectLabel.key] !== autoInjectLabel.enabled) out.add(ns);
  }
  return [...out].sort();
}

/** Reads the cluster (one pod list, one namespace list). */
export async function findUnlabelledInjectedNamespaces(deps: Pick<Deps, 'kube'>): Promise<string[]> {
  const [pods, labels] = await Promise.all([listInjectedPods(deps), namespaceLabels(deps)]);
  return unlabelledInjectedNamespaces(pods, labels);
}

/** What planning an upgrade reads from its command line: the upgrade's choices, its binaries, its step timeout and its backup directory. */
export interface PlanArgs extends UpgradeChoices, BinaryOptions, StepTimeout {
  backupDir: string;
}

/** The leftovers of earlier removals (leftovers.ts); a scan that cannot run is left to the preflight, which reports it. */
async function findLeftovers(deps: Deps, install: Install): Promise<Leftover[]> {
  try {
    return await scanLeftovers(deps, { namespace: install.namespace, release: install.release, phase: 'preflight' });
  } catch (err) {
    deps.log.warn(`could not look for leftovers of earlier removals: ${(err as Error).message}`);
    return [];
  }
}

/** --meshctl/--meshctl-current first; PATH fills the versions they leave without a binary (a fresh run's way, and a resume's). */
export async function meshctlFor(
  deps: Pick<Deps, 'fs' | 'exec'>,
  install: Pick<Install, 'version'>,
  args: Pick<PlanArgs, 'meshctl' | 'meshctlCurrent' | 'pathEnv'>,
  targets: readonly string[],
): Promise<{ binaries: Record<string, string>; found: Record<string, ChosenBinary> }> {
  const binaries = await resolveMeshctlBinaries(
    deps,
    args.meshctl ?? [],
    args.meshctlCurrent,
    install.version,
    targets,
  );
  const missing = [install.version, ...targets].filter((v) => !(v in binaries));
  const found = missing.length ? await findMeshctlOnPath(deps, pathDirectories(args.pathEnv), missing) : {};
  for (const [v, b] of Object.entries(found)) binaries[v] = b.path;
  return { binaries, found };
}

export const defaultChartRef = 'nginx-stable/nginx-service-mesh';

/** Parses --deploy-flag NAME=VALUE pairs (NAME with or without leading dashes). */
export function parseDeployFlags(pairs: readonly string[]): Record<string, Arg> {
  const out: Record<string, Arg> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    // The text may hold a password: never quote it back.
    if (eq <= 0)
      throw new UsageError(
        `a --deploy-flag value is not NAME=VALUE${eq < 0 && !p.includes('password') ? `: ${JSON.stringify(p)}` : ''}`,
        'Use for example --deploy-flag mtls-mode=strict.',
      );
    const name = p.slice(0, eq).replace(/^-+/, '');
    const value = p.slice(eq + 1);
    // A credential given on the command line stays a Secret: the plan, journal and logs show <redacted>.
    out[name] = findDeploySetting(name)?.secret && !findDeploySetting(name)?.file ? new Secret(value, name) : value;
  }
  return out;
}

/**
 * Where the chart comes from: a directory with Chart.yaml, a directory of <version>/ charts, or a
 * repo reference. A local one is named by its absolute path: the plan and the journal say exactly
 * which files, wherever a resume starts from.
 */
export async function resolveChartSource(deps: Pick<Deps, 'fs'>, ref: string | undefined): Promise<ChartSource> {
  let given = ref ?? defaultChartRef;
  let isDir = false;
  try {
    isDir = (await deps.fs.stat(given)).isDirectory();
  } catch {
    return { kind: 'repo', ref: given };
  }
  given = path.resolve(given);
  if (!isDir) {
    const chartVersion = /-(\d+\.\d+\.\d+)\.tgz$/.exec(given)?.[1];
    const app = releases.find((r) => r.chartVersion === chartVersion)?.version ?? '';
    return { kind: 'path', path: given, version: app };
  }
  try {
    const meta = load(await deps.fs.readFile(path.join(given, 'Chart.yaml'), 'utf8')) as
      { appVersion?: string; version?: string } | undefined;
    return {
      kind: 'path',
      path: given,
      version: normalizeVersion(String(meta?.appVersion ?? meta?.version ?? '')) ?? '',
    };
  } catch {
    return { kind: 'versioned-dir', dir: given.replace(/\/+$/, '') };
  }
}

/** Runs `helm version --short`; undefined when helm is missing or not Helm 3/4 (the plan refuses then). */
export async function detectHelm(
  deps: Pick<Deps, 'exec'>,
  bin: string,
): Promise<{ bin: string; major: 3 | 4 } | undefined> {
  try {
    const res = await deps.exec.run(helmVersion(bin));
    const major = parseHelmMajor(res.stdout);
    return major ? { bin, major } : undefined;
  } catch {
    return undefined;
  }
}

/** --helm, else `helm` on PATH, as the file that runs (so the journal can record its hash); undefined when there is none or it is not Helm 3 or 4. */
export async function findHelm(
  deps: Pick<Deps, 'exec' | 'fs'>,
  given: string | undefined,
  pathEnv: string | undefined,
): Promise<{ bin: string; major: 3 | 4 } | undefined> {
  const bin = await resolveCommand(deps, given ?? 'helm', pathEnv);
  return bin === undefined ? undefined : detectHelm(deps, bin);
}

/** Builds the planner's options for this install. */
export async function gatherPlanInputs(deps: Deps, install: Install, args: PlanArgs): Promise<PlanOptions> {
  const to = normalizeVersion(args.to);
  const hops = to ? hopsBetween(install.version, to) : [];
  const toTwo = hops.some((h) => crosses(h, '2.0.0'));
  const [meshctl, helm, chart, unlabelled, leftovers] = await Promise.all([
    install.method === 'meshctl'
      ? meshctlFor(
          deps,
          install,
          args,
          hops.map((h) => h.to),
        )
      : Promise.resolve({ binaries: {}, found: {} }),
    install.method === 'helm' ? findHelm(deps, args.helm, args.pathEnv) : Promise.resolve(undefined),
    resolveChartSource(deps, args.chart),
    // The mesh's own namespace is never injected by a real mesh: leave it out.
    toTwo
      ? findUnlabelledInjectedNamespaces(deps).then((l) => l.filter((n) => n !== install.namespace))
      : Promise.resolve([]),
    hops.length ? findLeftovers(deps, install) : Promise.resolve([]),
  ]);
  return {
    to: args.to,
    strategy: args.strategy,
    meshctlBinaries: meshctl.binaries,
    meshctlFound: meshctl.found,
    helm,
    chart,
    deployFlagChanges: parseDeployFlags(args.deployFlag ?? []),
    labelNamespaces: args.labelNamespaces,
    unlabelledInjectedNamespaces: unlabelled,
    backupDir: args.backupDir,
    timeout: args.timeout,
    // The context the tool's client was built from, once, at start: every child command gets it.
    context: deps.kube.context,
    ...(leftovers.length ? { leftovers } : {}),
    ...(args.cleanLeftovers ? { cleanLeftovers: true } : {}),
    ...(args.acceptPruning ? { acceptPruning: true } : {}),
    ...(args.deleteForeignObjects ? { deleteForeignObjects: true } : {}),
  };
}
