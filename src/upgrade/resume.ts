/**
 * `--resume DIR` without trusting DIR: the journal says what was planned and what is done, but a
 * resume never runs a command, a binary or a path read from it unchecked.
 *
 * - The directory and the journal must belong to the user (or root) and be writable by nobody else.
 * - The journal fits its schema (journal-schema.ts) and names DIR as its backup directory.
 * - The command line may repeat the journal's options; a contradiction is refused naming both.
 * - Credentials come back from the backup (install.yaml, 0600) and --deploy-flag, never from the
 *   journal (it holds `<redacted>`).
 * - Binaries: the ones given again on the command line, else the journaled ones after the checks
 *   a user's own `sudo` would make (a regular file owned by the user or root, writable by nobody else).
 * - The plan is built again from those inputs by the same pure planner; when it differs from the
 *   journaled plan (a command, a path, a step), the resume is refused (exit 2) and nothing runs.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { verifyBackup } from '../backup/verify.ts';
import { UsageError } from '../errors.ts';
import { markSecrets, redactDeep, redacted, type Arg } from '../secret.ts';
import { hopsBetween } from '../mesh/versions.ts';
import { normalizeVersion } from '../version-compare.ts';
import { buildPlan } from './plan.ts';
import { detectHelm, parseDeployFlags, resolveMeshctlBinaries } from './plan-inputs.ts';
import type { JournalState } from './journal.ts';
import type { Install, Plan, PlanOptions } from './types.ts';

/** What the resuming command line says (undefined: not given). */
export interface ResumeArgs {
  dir: string;
  to?: string | undefined;
  strategy?: string | undefined;
  context?: string | undefined;
  chart?: string | undefined;
  meshctl?: readonly string[] | undefined;
  meshctlCurrent?: string | undefined;
  helm?: string | undefined;
  deployFlag?: readonly string[] | undefined;
  labelNamespaces?: boolean | undefined;
  timeout?: string | undefined;
  cleanLeftovers?: boolean | undefined;
  acceptPruning?: boolean | undefined;
  deleteForeignObjects?: boolean | undefined;
}

type Fs = Deps['fs'];
const uid = () => process.getuid?.() ?? 0;

/** Refuses a file or directory not owned by the user (or root), or writable by group or others. */
export async function checkOwnedPrivate(fs: Fs, p: string, what: string): Promise<void> {
  const st = await fs.stat(p);
  if (st.uid !== uid() && st.uid !== 0) {
    throw new UsageError(`${what} ${p} belongs to user id ${st.uid}, not to you (${uid()}): --resume will not run what it names`, `Resume as the user who started the run, or check who changed ${p}.`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new UsageError(`${what} ${p} is writable by ${st.mode & 0o002 ? 'anyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): its journal could have been changed by someone else`, `Check the journal, then make it private: chmod go-w ${p}`);
  }
}

const differs = (flag: string, given: string, journaled: string, sep = ' ') =>
  new UsageError(`${flag}${sep}${given} contradicts the run being resumed, which has ${journaled}`, `Resume with the run's own options (or none of them): drop ${flag}, or start a new run.`);

/** The options the command line repeats: equal is fine, different is refused. */
function checkContradictions(j: JournalState, a: ResumeArgs): void {
  const to = a.to && normalizeVersion(a.to);
  if (a.to && to !== normalizeVersion(j.inputs.to)) throw differs('--to', a.to, `--to ${j.inputs.to}`);
  if (a.strategy && a.strategy !== 'auto' && a.strategy !== j.inputs.strategy) throw differs('--strategy', a.strategy, `--strategy ${j.inputs.strategy}`);
  if (a.context && a.context !== j.inputs.context) throw differs('--context', a.context, j.inputs.context ? `--context ${j.inputs.context}` : 'no --context');
  const chart = j.inputs.chart;
  const chartRef = chart.kind === 'repo' ? chart.ref : chart.kind === 'versioned-dir' ? chart.dir : chart.path;
  if (a.chart && path.resolve(a.chart) !== path.resolve(chartRef) && a.chart !== chartRef) throw differs('--chart', a.chart, `--chart ${chartRef}`);
  if (a.labelNamespaces && !j.inputs.labelNamespaces) throw differs('--label-namespaces', 'given', 'no --label-namespaces');
  if (a.cleanLeftovers && !j.inputs.cleanLeftovers) throw differs('--clean-leftovers', 'given', 'no --clean-leftovers (clear what the run names by hand, then resume)');
  if (a.acceptPruning && !j.inputs.acceptPruning) throw differs('--accept-pruning', 'given', 'no --accept-pruning');
  if (a.deleteForeignObjects && !j.inputs.deleteForeignObjects) throw differs('--delete-foreign-objects', 'given', 'no --delete-foreign-objects');
}

/** The journal's --deploy-flag changes with the secrets given again; refuses a missing or a contradicting one. */
function deployFlagChanges(journaled: Readonly<Record<string, unknown>>, given: readonly string[]): Record<string, Arg> {
  const now = parseDeployFlags(given);
  const out: Record<string, Arg> = {};
  for (const [name, value] of Object.entries(journaled)) {
    const again = now[name];
    if (value === redacted) {
      if (again === undefined) throw new UsageError(`the run was given --deploy-flag ${name}=..., a credential, which is never written to the journal`, `Pass --deploy-flag ${name}=VALUE again with --resume.`);
      out[name] = again;
    } else {
      if (again !== undefined && String(again) !== String(value)) throw differs(`--deploy-flag ${name}`, String(again), `${name}=${String(value)}`, '=');
      out[name] = String(value);
    }
  }
  for (const name of Object.keys(now)) if (!(name in journaled)) throw differs('--deploy-flag', `${name}=...`, `no --deploy-flag ${name}`);
  return out;
}

/**
 * The install's values with their credentials, from hop 1's backup as verifyBackup reads it (every
 * file's hash checked against the manifest, as a restore would); they must match the journal's.
 */
async function valuesFromBackup(fs: Fs, dir: string, install: Install): Promise<Record<string, unknown>> {
  const journaled = JSON.stringify(install.values);
  if (!journaled.includes(JSON.stringify(redacted))) return install.values;
  const hop1 = path.join(dir, 'hop1');
  let values: unknown;
  try {
    values = ((await verifyBackup(fs, hop1, { keepObjects: false })).install as { helmRelease?: { values?: unknown } } | undefined)?.helmRelease?.values;
  } catch { /* reported below */ }
  const marked = values && typeof values === 'object' ? markSecrets(values as Record<string, unknown>) : undefined;
  if (!marked || JSON.stringify(marked) !== journaled) {
    throw new UsageError(`the install's credentials cannot be taken from ${path.join(hop1, 'install.yaml')}: the backup is missing, fails verification, or does not match the journal`, 'The backup of hop 1 was changed or lost. Check the cluster (kubectl nsm-upgrade status) and restore by hand if needed.');
  }
  return marked;
}

/** Binaries: given again (checked like a fresh run's), else the journaled ones, which must be private files. */
async function binaries(deps: Deps, j: JournalState, a: ResumeArgs): Promise<Pick<PlanOptions, 'meshctlBinaries' | 'helm'>> {
  const meshctlBinaries = { ...j.inputs.meshctlBinaries };
  if (a.meshctl?.length || a.meshctlCurrent) {
    const targets = hopsBetween(j.install.version, normalizeVersion(j.inputs.to) ?? j.inputs.to).map((h) => h.to);
    Object.assign(meshctlBinaries, await resolveMeshctlBinaries(deps, a.meshctl ?? [], a.meshctlCurrent, j.install.version, targets));
  }
  let helm = j.inputs.helm;
  if (a.helm) {
    helm = await detectHelm(deps, a.helm);
    if (!helm) throw new UsageError(`--helm ${a.helm} is not Helm 3 or 4`, 'Pass --helm PATH to a Helm 3.14+ or Helm 4 binary.');
  }
  const given = new Set([...Object.values(meshctlBinaries).filter((b) => !Object.values(j.inputs.meshctlBinaries).includes(b)), ...(a.helm && helm ? [helm.bin] : [])]);
  for (const bin of [...Object.values(meshctlBinaries), ...(helm ? [helm.bin] : [])]) {
    if (given.has(bin)) continue;
    try {
      await checkOwnedPrivate(deps.fs, bin, 'binary');
      if (!(await deps.fs.stat(bin)).isFile()) throw new UsageError(`binary ${bin} is not a file`);
    } catch (err) {
      const why = err instanceof UsageError ? err.message : `binary ${bin}: ${(err as Error).message}`;
      throw new UsageError(`the journal names ${why.replace(/^binary /, 'binary ')}`, 'Pass the binaries again on the command line with --resume (--meshctl, --meshctl-current, --helm).');
    }
  }
  return { meshctlBinaries, helm };
}

/** Pure: the first difference between the journaled plan and the one built again, or undefined. */
export function planDifference(journaled: Plan, rebuilt: Plan, opts: { ignoreBinaries: boolean }): string | undefined {
  const view = (p: Plan) => redactDeep(p.hops).map((h) => h.steps.map((s) => ({
    id: s.id, kind: s.kind, params: s.params,
    commands: s.commands.map((c) => ({ ...c, bin: opts.ignoreBinaries ? '' : c.bin })),
  })));
  const a = view(journaled).flat();
  const b = view(rebuilt).flat();
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return `step ${a[i]?.id ?? b[i]?.id}: the journal has ${x ?? 'nothing'}, the plan built again has ${y ?? 'nothing'}`;
  }
  if (journaled.childKubeconfig?.path !== rebuilt.childKubeconfig?.path) return `the private kubeconfig: the journal has ${journaled.childKubeconfig?.path}, the plan built again has ${rebuilt.childKubeconfig?.path}`;
  return undefined;
}

/** Checks the run directory and journal, and rebuilds the plan to resume. Throws UsageError (exit 2) before anything runs. */
export async function planForResume(deps: Deps, j: JournalState, a: ResumeArgs): Promise<{ plan: Plan; install: Install }> {
  const dir = path.resolve(a.dir);
  await checkOwnedPrivate(deps.fs, dir, 'backup directory');
  await checkOwnedPrivate(deps.fs, path.join(dir, 'journal.ndjson'), 'journal');
  if (path.resolve(j.inputs.backupDir) !== dir) {
    throw new UsageError(`the journal in ${dir} names another backup directory, ${j.inputs.backupDir}`, 'The journal was moved or changed; resume from the directory the run printed.');
  }
  checkContradictions(j, a);
  const install: Install = { ...j.install, values: await valuesFromBackup(deps.fs, dir, j.install) };
  const inputs: PlanOptions = {
    ...j.inputs,
    ...(await binaries(deps, j, a)),
    deployFlagChanges: deployFlagChanges(j.inputs.deployFlagChanges, a.deployFlag ?? []),
    meshctlFound: j.inputs.meshctlFound,
    backupDir: dir,
  };
  const plan = buildPlan(install, inputs);
  const diff = planDifference(j.plan, plan, { ignoreBinaries: Boolean(a.meshctl?.length || a.meshctlCurrent || a.helm) });
  if (diff) {
    throw new UsageError(`the journaled plan is not the plan its own inputs give (${diff})`, 'The journal was changed, or written by another version of the tool; nothing was run. Finish the run with the version that started it, or check the cluster (kubectl nsm-upgrade status) and restore from the backup.');
  }
  return { plan, install };
}
