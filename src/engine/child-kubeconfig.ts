/**
 * The private kubeconfig every helm and nginx-meshctl command of a run gets, with or without
 * --context: only the run's context, its cluster and its user, as the tool loaded them once at start
 * (kube/client.ts, pinnedKubeconfig). A child never reads the user's kubeconfig, so a context switched
 * or a file edited in another shell while the run goes on cannot move it to another cluster
 * (nginx-meshctl has no --context flag and re-reads the kubeconfig's current context when it starts;
 * helm would too without --kube-context). It is written 0600 next to the journal (the directory is
 * 0700) before anything runs a child, removed afterwards, and by the second Ctrl-C.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { UsageError } from '../errors.ts';
import { holdPrivateFile } from '../private-files.ts';
import type { Hop, Plan } from './types.ts';

export function childKubeconfigPath(backupDir: string): string {
  return path.join(backupDir, 'kubeconfig.private');
}

/** Pure: the plan's private kubeconfig, when any of its steps runs a command. */
export function pinnedChildren(
  file: string,
  context: string | undefined,
  hops: readonly Pick<Hop, 'steps'>[],
): Pick<Plan, 'childKubeconfig'> {
  const commands = hops.some((h) => h.steps.some((s) => s.commands.length > 0));
  return commands ? { childKubeconfig: { path: file, ...(context !== undefined ? { context } : {}) } } : {};
}

/** Writes the plan's private kubeconfig (if it has one), runs fn, then removes the file. */
export async function withChildKubeconfig<T>(
  deps: Pick<Deps, 'fs' | 'kube'>,
  plan: Pick<Plan, 'childKubeconfig'>,
  fn: () => Promise<T>,
): Promise<T> {
  const child = plan.childKubeconfig;
  if (!child) return fn();
  if (child.context !== undefined && child.context !== deps.kube.context) {
    throw new UsageError(
      `the run acts on context "${child.context}", but the tool was started on context "${deps.kube.context}"`,
      `Pass --context ${child.context} (the run's own context).`,
    );
  }
  const dir = path.dirname(child.path);
  const created = await deps.fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await deps.fs.rm(child.path, { force: true });
  const release = holdPrivateFile(child.path);
  try {
    await deps.fs.writeFile(child.path, deps.kube.pinnedKubeconfig(), { mode: 0o600, flag: 'wx' });
    return await fn();
  } finally {
    await deps.fs.rm(child.path, { force: true });
    release();
    // A directory made only for the file (a refused preflight) goes with it; one with a backup stays.
    if (created !== undefined) await deps.fs.rmdir(dir).catch(() => undefined);
  }
}
