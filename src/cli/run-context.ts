/**
 * The context a command that continues a run acts on (`--resume DIR`, `rollback --from DIR`): the
 * run's own, as journaled when it started, unless --context names one. The run's cluster is the one
 * its context named then, not whatever the kubeconfig's current context is now; the cluster's
 * identity (kube-system uid) is still checked against the journal before anything runs.
 */
import type { Deps } from '../deps.ts';
import { readJournal } from '../engine/journal.ts';
import { readRollbackJournal } from '../rollback/journal.ts';

/** The context the run in `dir` was pinned to (its rollback's first), or undefined: none journaled, or no journal to read (the start reports why). */
export async function journaledContext(fs: Deps['fs'], dir: string): Promise<string | undefined> {
  try {
    const rollback = await readRollbackJournal(fs, dir);
    if (rollback) return rollback.options.context;
    return (await readJournal(fs, dir)).inputs.context;
  } catch {
    return undefined;
  }
}

/** --context, else the context of the run being continued. */
export async function contextFor(
  fs: Deps['fs'],
  given: string | undefined,
  runDir: string | undefined,
): Promise<string | undefined> {
  if (given !== undefined || runDir === undefined) return given;
  return journaledContext(fs, runDir);
}
