/**
 * `--resume DIR` without trusting DIR: the journal says what was planned and what is done, but a
 * resume never runs a command, a binary or a path read from it unchecked.
 *
 * - The directory and the journal must belong to the user (or root) and be writable by nobody else.
 * - The journal fits its schema (journal-schema.ts) and names DIR as its backup directory.
 * - The command line may repeat the journal's options; a contradiction is refused naming both.
 * - The install's settings (credentials too) come from the hop 1 backup, verified and pinned by the
 *   manifest hash the run journaled, and --deploy-flag; never from the journal alone (it holds
 *   `<redacted>` anyway).
 * - Binaries and the chart are never read from the journal: they are found as a fresh run finds
 *   them (the flags, then PATH by version; --chart or the default) and must have the SHA-256 the
 *   run journaled (binary-digests.ts), or the resume is refused naming both.
 * - The plan is built again from those inputs by the same pure planner; when it differs from the
 *   journaled plan (a command, a path, a step), the resume is refused (exit 2) and nothing runs.
 */
import type { BinaryOptions, ClusterOptions, StepTimeout, UpgradeChoices } from '../engine/option-groups.ts';
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { notAsJournaled, verifyBackup } from '../backup/verify.ts';
import { UsageError } from '../errors.ts';
import { markSecrets, redactDeep, redacted, type Arg } from '../secret.ts';
import { detectInstall } from '../mesh/detect.ts';
import { hopsBetween } from '../mesh/versions.ts';
import { normalizeVersion } from '../version-compare.ts';
import { buildPlan } from './plan.ts';
import { findHelm, meshctlFor, parseDeployFlags, resolveChartSource } from './plan-inputs.ts';
import { checkFoundBinaries } from '../engine/binary-digests.ts';
import type { JournalState } from '../engine/journal.ts';
import type { Install, Plan, PlanOptions } from '../engine/types.ts';

/** What the resuming command line says (undefined: not given); each given value is checked against the journal's. */
export interface ResumeArgs
  extends Partial<UpgradeChoices>, BinaryOptions, Partial<StepTimeout>, Pick<ClusterOptions, 'context'> {
  dir: string;
}

type Fs = Deps['fs'];
const uid = () => process.getuid?.() ?? 0;

/** Refuses a file or directory not owned by the user (or root), or writable by group or others. */
export async function checkOwnedPrivate(fs: Fs, p: string, what: string): Promise<void> {
  const st = await fs.stat(p);
  if (st.uid !== uid() && st.uid !== 0) {
    throw new UsageError(
      `${what} ${p} belongs to user id ${st.uid}, not to you (${uid()}): --resume will not run what it names`,
      `Resume as the user who started the run, or check who changed ${p}.`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new UsageError(
      `${what} ${p} is writable by ${st.mode & 0o002 ? 'anyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): its journal could have been changed by someone else`,
      `Check the journal, then make it private: chmod go-w ${p}`,
    );
  }
}

const differs = (flag: string, given: string, journaled: string, sep = ' ') =>
  new UsageError(
    `${flag}${sep}${given} contradicts the run being resumed, which has ${journaled}`,
    `Resume with the run's own options (or none of them): drop ${flag}, or start a new run.`,
  );

/** The options the command line repeats: equal is fine, different is refused. */
function checkContradictions(j: JournalState, a: ResumeArgs): void {
  const to = a.to && normalizeVersion(a.to);
  if (a.to && to !== normalizeVersion(j.inputs.to)) throw differs('--to', a.to, `--to ${j.inputs.to}`);
  if (a.strategy && a.strategy !== 'auto' && a.strategy !== j.inputs.strategy)
    throw differs('--strategy', a.strategy, `--strategy ${j.inputs.strategy}`);
  if (a.context && a.context !== j.inputs.context)
    throw differs('--context', a.context, j.inputs.context ? `--context ${j.inputs.context}` : 'no --context');
  if (a.labelNamespaces && !j.inputs.labelNamespaces)
    throw differs('--label-namespaces', 'given', 'no --label-namespaces');
  if (a.cleanLeftovers && !j.inputs.cleanLeftovers)
    throw differs('--clean-leftovers', 'given', 'no --clean-leftovers (clear what the run names by hand, then resume)');
  if (a.acceptPruning && !j.inputs.acceptPruning) throw differs('--accept-pruning', 'given', 'no --accept-pruning');
  if (a.deleteForeignObjects && !j.inputs.deleteForeignObjects)
    throw differs('--delete-foreign-objects', 'given', 'no --delete-foreign-objects');
}

/** The journal's --deploy-flag changes with the secrets given again; refuses a missing or a contradicting one. */
function deployFlagChanges(
  journaled: Readonly<Record<string, unknown>>,
  given: readonly string[],
): Record<string, Arg> {
  const now = parseDeployFlags(given);
  const out: Record<string, Arg> = {};
  for (const [name, value] of Object.entries(journaled)) {
    const again = now[name];
    if (value === redacted) {
      if (again === undefined)
        throw new UsageError(
          `the run was given --deploy-flag ${name}=..., a credential, which is never written to the journal`,
          `Pass --deploy-flag ${name}=VALUE again with --resume.`,
        );
      out[name] = again;
    } else {
      if (again !== undefined && String(again) !== String(value))
        throw differs(`--deploy-flag ${name}`, String(again), `${name}=${String(value)}`, '=');
      out[name] = String(value);
    }
  }
  for (const name of Object.keys(now))
    if (!(name in journaled)) throw differs('--deploy-flag', `${name}=...`, `no --deploy-flag ${name}`);
  return out;
}

/**
 * The install's values (credentials too) from the run's hop 1 backup, never from the journal alone:
 * verifyBackup checks every file against the manifest, whose sha256 must be the one the backup step
 * journaled; they must also match the journal's install. Before that backup was journaled nothing
 * was changed on the cluster, so they are read from it again, as the backup step will read them.
 */
async function installValues(deps: Deps, dir: string, j: JournalState): Promise<Record<string, unknown>> {
  const hop1 = path.join(dir, 'hop1');
  let values: Record<string, unknown> | undefined;
  let why = 'they do not match the journal';
  try {
    if (j.done.has('hop1.backup')) {
      const verified = await verifyBackup(deps.fs, hop1, { keepObjects: false });
      const changed = notAsJournaled(verified.manifestSha256, j.data.get('hop1.backup')?.manifestSha256);
      if (changed) why = changed;
      else
        values = markSecrets(
          (verified.install as { helmRelease?: { values?: Record<string, unknown> } | null } | undefined)?.helmRelease
            ?.values ?? {},
        );
    } else {
      values = (
        await detectInstall(deps, {
          meshNamespace: j.install.namespace,
          method: j.install.method,
          release: j.install.release,
        })
      ).values;
    }
  } catch (err) {
    why = (err as Error).message;
  }
  if (!values || JSON.stringify(values) !== JSON.stringify(j.install.values)) {
    const source = j.done.has('hop1.backup')
      ? `the backup ${path.join(hop1, 'install.yaml')}`
      : 'the cluster (the run stopped before its backup)';
    throw new UsageError(
      `the install's settings cannot be taken from ${source}: ${why}`,
      'The backup of hop 1 was changed or lost, or the install changed since the run started; nothing was run. Check the cluster (kubectl nsm-upgrade status) and restore by hand if needed.',
    );
  }
  return values;
}

/**
 * The binaries and chart, found as a fresh run finds them (the flags, then PATH by version; the
 * chart from --chart or the default), never read from the journal; their hashes must be the ones
 * the run journaled (binary-digests.ts). Nothing the journal names is run, not even `version`.
 */
async function findBinaries(
  deps: Deps,
  j: JournalState,
  a: ResumeArgs,
): Promise<{
  found: Pick<PlanOptions, 'meshctlBinaries' | 'meshctlFound' | 'helm' | 'chart'>;
  journaledPath: Map<string, string>;
}> {
  const targets = hopsBetween(j.install.version, normalizeVersion(j.inputs.to) ?? j.inputs.to).map((h) => h.to);
  const meshctl =
    j.install.method === 'meshctl' ? await meshctlFor(deps, j.install, a, targets) : { binaries: {}, found: {} };
  const helm = j.install.method === 'helm' ? await findHelm(deps, a.helm, a.pathEnv) : undefined;
  if (a.helm && !helm)
    throw new UsageError(`--helm ${a.helm} is not Helm 3 or 4`, 'Pass --helm PATH to a Helm 3.14+ or Helm 4 binary.');
  const found = {
    meshctlBinaries: meshctl.binaries,
    meshctlFound: meshctl.found,
    helm,
    chart: await resolveChartSource(deps, a.chart),
  };
  return { found, journaledPath: await checkFoundBinaries(deps.fs, j.binaries, found, 'the run') };
}

/**
 * Pure: the first difference between the journaled plan and the one built again, or undefined.
 * `journaledPath` names, for each binary found now, the path the journal recorded for it (the same
 * version with the same hash): the plans are compared with those, so a journal whose plan runs
 * anything but its own recorded binaries is refused, and the same file found elsewhere is not.
 */
export function planDifference(
  journaled: Plan,
  rebuilt: Plan,
  journaledPath: ReadonlyMap<string, string>,
): string | undefined {
  const view = (p: Plan) =>
    redactDeep(p.hops).flatMap((h) =>
      h.steps.map((s) => JSON.stringify({ id: s.id, kind: s.kind, params: s.params, commands: s.commands })),
    );
  const a = view(journaled);
  const b = view(rebuilt).map((step) =>
    [...journaledPath].reduce((text, [now, was]) => text.split(JSON.stringify(now)).join(JSON.stringify(was)), step),
  );
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `step ${(JSON.parse(a[i] ?? b[i]!) as { id: string }).id}: the journal has ${a[i] ?? 'nothing'}, the plan built again has ${b[i] ?? 'nothing'}`;
  }
  if (journaled.childKubeconfig?.path !== rebuilt.childKubeconfig?.path)
    return `the private kubeconfig: the journal has ${journaled.childKubeconfig?.path}, the plan built again has ${rebuilt.childKubeconfig?.path}`;
  return undefined;
}

/** Checks the run directory and journal, and rebuilds the plan to resume. Throws UsageError (exit 2) before anything runs. */
export async function planForResume(
  deps: Deps,
  j: JournalState,
  a: ResumeArgs,
): Promise<{ plan: Plan; install: Install; inputs: PlanOptions }> {
  const dir = path.resolve(a.dir);
  await checkOwnedPrivate(deps.fs, dir, 'backup directory');
  await checkOwnedPrivate(deps.fs, path.join(dir, 'journal.ndjson'), 'journal');
  if (path.resolve(j.inputs.backupDir) !== dir) {
    throw new UsageError(
      `the journal in ${dir} names another backup directory, ${j.inputs.backupDir}`,
      'The journal was moved or changed; resume from the directory the run printed.',
    );
  }
  checkContradictions(j, a);
  const { found, journaledPath } = await findBinaries(deps, j, a);
  const install: Install = { ...j.install, values: await installValues(deps, dir, j) };
  const inputs: PlanOptions = {
    ...j.inputs,
    ...found,
    deployFlagChanges: deployFlagChanges(j.inputs.deployFlagChanges, a.deployFlag ?? []),
    backupDir: dir,
  };
  const plan = buildPlan(install, inputs);
  const diff = planDifference(j.plan, plan, journaledPath);
  if (diff) {
    throw new UsageError(
      `the journaled plan is not the plan its own inputs give (${diff})`,
      'The journal was changed, or written by another version of the tool; nothing was run. Finish the run with the version that started it, or check the cluster (kubectl nsm-upgrade status) and restore from the backup.',
    );
  }
  return { plan, install, inputs };
}
