/**
 * Node's on-disk compile cache (module.enableCompileCache, Node >= 22.1) for the bundle's chunks:
 * a later run reuses V8's compiled code instead of parsing megabytes of JavaScript again (issue 18).
 *
 * The cache holds code Node runs, so it lives only in a directory of this user's own, mode 0700:
 * $XDG_CACHE_HOME/nsm-upgrade/compile-cache, else ~/.cache/nsm-upgrade/compile-cache; never a
 * shared path such as /tmp, where another user could plant code. When that directory cannot be
 * made private, or Node has no compile cache, the tool runs without it, silently.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node's own switch).
 */
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string | undefined {
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : home
        ? path.join(home, '.cache')
        : undefined;
  return base && path.join(base, 'nsm-upgrade', 'compile-cache');
}

/** The directory, created 0700, when it is a real directory (no symlink), ours and private; else undefined. */
export function privateDir(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  if (typeof module.enableCompileCache !== 'function') return;
  const dir = compileCacheDir(env);
  const ok = dir && privateDir(dir);
  if (!ok) return;
  try {
    module.enableCompileCache(ok);
  } catch {
    /* no cache: start as without one */
  }
}
