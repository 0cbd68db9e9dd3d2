import { isSea } from 'node:sea';

/**
 * The command that starts this tool again (the fleet runs each cluster's upgrade as a child): the
 * single executable itself (build/sea.ts), or this Node with the flags it was given and the script
 * it runs (src/main.ts under type stripping, or the bundle dist/cli.mjs; see bin/kubectl-nsm_upgrade).
 */
export function selfCommand(): string[] {
  if (isSea()) return [process.execPath];
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}
