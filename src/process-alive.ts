import fs from 'node:fs';

/**
 * Does a process with this pid run? A zombie (killed, waiting to be reaped by a parent that may
 * never do it, as when its parent was killed too and the container's init does not reap) is not
 * running: its lease and its fleet slot may be taken over. Where /proc is missing, the answer of
 * kill(pid, 0) stands.
 */
export function pidRuns(pid: number, readStat: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readStat(`/proc/${pid}/stat`);
  } catch {
    return true;
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}
