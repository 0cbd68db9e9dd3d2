/**
 * What steps read and write on disk besides the backup itself: the files a step's commands read
 * (created new, 0600, in the run's private directory) and the check that a hop's backup is still
 * the one its backup step wrote before restore or verify read it.
 */
import path from 'node:path';
import { dump } from 'js-yaml';
import { revealDeep } from '../secret.ts';
import { StepError } from '../errors.ts';
import { manifestSha256, notAsJournaled } from '../backup/verify.ts';
import { createPrivateFile, ensurePrivateDir } from '../backup/private-files.ts';
import type { StepContext } from './step-context.ts';
import type { StepFile } from './types.ts';

/**
 * The files a step's commands read, written 0600 in the (0700) backup directory: Helm values with
 * any Secret revealed only here, a registry key. Never through --set or an argument.
 */
export async function writeStepFiles(ctx: StepContext, files: readonly StepFile[]): Promise<void> {
  for (const f of files) {
    await ensurePrivateDir(ctx.deps.fs, path.dirname(f.path), "the run's directory");
    const text = 'values' in f.content ? dump(revealDeep(f.content.values)) : f.content.secret.reveal();
    // Created new, never through a symlink or into a file left there (private-files.ts).
    await createPrivateFile(ctx.deps.fs, f.path, text);
  }
}

/**
 * Refuses a hop's backup that is not the one its backup step wrote: the manifest's sha256 (which
 * holds every file's) must be the one journaled then. Restore and verify read nothing else.
 */
export async function assertBackupAsTaken(ctx: StepContext, dir: string): Promise<void> {
  const backup = ctx.hop.steps.find((s) => s.kind === 'backup');
  let problem: string | undefined;
  try {
    problem = notAsJournaled(
      await manifestSha256(ctx.deps.fs, dir),
      backup && ctx.journalData.get(backup.id)?.manifestSha256,
    );
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) {
    throw new StepError(
      ctx.step.id,
      `the backup ${dir} is refused: ${problem}`,
      'Nothing was read from it. Put back the backup the run wrote (a copy of the directory), or check the cluster (kubectl nsm-upgrade status) and restore by hand from a backup you trust.',
    );
  }
}
