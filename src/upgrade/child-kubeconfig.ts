/**
 * The private kubeconfig nginx-meshctl gets when the run targets a --context (nginx-meshctl has no
 * --context flag, and its -k silently falls back to the default kubeconfig when the file is
 * missing). It holds only the chosen context, its cluster and its user, is written 0600 next to the
 * journal (the directory is 0700) before anything runs nginx-meshctl, and is removed afterwards.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { minifiedKubeconfig } from '../kube/kubeconfig.ts';
import type { Plan } from './types.ts';

export function childKubeconfigPath(backupDir: string): string {
  return path.join(backupDir, 'kubeconfig.nginx-meshctl');
}

/** Writes the plan's private kubeconfig (if it has one), runs fn, then removes the file. */
export async function withChildKubeconfig<T>(deps: Pick<Deps, 'fs'>, plan: Pick<Plan, 'childKubeconfig'>, fn: () => Promise<T>): Promise<T> {
  const child = plan.childKubeconfig;
  if (!child) return fn();
  const text = minifiedKubeconfig({ kubeconfig: child.kubeconfig, context: child.context });
  const dir = path.dirname(child.path);
  const created = await deps.fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await deps.fs.rm(child.path, { force: true });
  await deps.fs.writeFile(child.path, text, { mode: 0o600, flag: 'wx' });
  try {
    return await fn();
  } finally {
    await deps.fs.rm(child.path, { force: true });
    // A directory made only for the file (a refused preflight) goes with it; one with a backup stays.
    if (created !== undefined) await deps.fs.rmdir(dir).catch(() => undefined);
  }
}
