import { ToolError, ExitCode } from '../errors.ts';

/** Commands whose work is not built yet say so and exit 1 (never pretend to succeed). */
export function notBuilt(command: string, issue: string): never {
  throw new ToolError(`"${command}" is not built yet (tracked in ${issue})`, ExitCode.failed);
}
