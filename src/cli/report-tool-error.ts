import { ExitCode, PreflightError, ToolError } from '../errors.ts';
import { InvalidNameError } from '../kube/paths.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * The tool's own errors (usage, preflight, bad input) as the user reads them, or undefined for any
 * other error. It needs no kube client: a bad flag is reported without loading it (issue 18).
 */
export function reportToolError(err: unknown, io: Io): number | undefined {
  if (err instanceof PreflightError) {
    io.err(`error: ${err.message}\n`);
    for (const f of err.failures) io.err(`  - ${f.check}: ${f.message}\n    fix: ${f.fix}\n`);
    return err.exitCode;
  }
  if (err instanceof ToolError) {
    io.err(`error: ${err.message}\n`);
    if (err.hint) io.err(`${err.hint}\n`);
    return err.exitCode;
  }
  if (err instanceof InvalidNameError) {
    io.err(`error: ${err.message}\n`);
    return ExitCode.usage;
  }
  return undefined;
}
