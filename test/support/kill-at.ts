import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { clusterEnv, repoRoot } from './cluster.ts';
import { chartsDir } from './mesh-scenario.ts';
import { settled } from './wait.ts';

/**
 * Runs the CLI and SIGKILLs it as soon as its journal records `step` as done: the run dies at
 * that step boundary (or just into the next step), with no chance to clean up.
 */
export async function runAndKillAfter(
  args: string[],
  backupDir: string,
  step: string,
  timeoutMs = 300_000,
): Promise<{ killed: boolean; output: string }> {
  const child = execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), args, {
    reject: false,
    env: { ...clusterEnv(), NSM_CHARTS_DIR: chartsDir },
    all: true,
  });
  const journal = path.join(backupDir, 'journal.ndjson');
  let killed = false;
  let exited = false;
  void child.finally(() => {
    exited = true;
  });
  // A short interval: the run must die at the step boundary, not steps later.
  await settled(
    async () => {
      if (exited) return true;
      // Its step record, not any record naming the step (a window mark is journaled as the step starts).
      if (!fs.existsSync(journal) || !stepsDone(backupDir).includes(step)) return false;
      child.kill('SIGKILL');
      killed = true;
      return true;
    },
    { timeoutMs, intervalMs: 20 },
  );
  const res = await child;
  return { killed, output: String(res.all ?? '') };
}

/** The steps a run's journal records as done, in order (a torn last line, or no journal yet: what there is). */
export function stepsDone(dir: string): string[] {
  try {
    return fs
      .readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l) as { type: string; step?: string };
        } catch {
          return { type: 'torn' };
        }
      })
      .filter((r) => r.type === 'step')
      .map((r) => r.step!);
  } catch {
    return [];
  }
}
