/**
 * Errors that map to the exit codes of the command-line contract (ARCHITECTURE.md, "Exit codes"):
 * 0 done; 1 failed; 2 bad usage or bad input; 3 refused by preflight (nothing changed);
 * 4 finished but not converged.
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, preflight: 3, notConverged: 4 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a message for the user, and the exit code the CLI returns for it. */
export class ToolError extends Error {
  readonly exitCode: ExitCodeValue;
  /** What the user can do about it, printed on its own line ("Use --strategy manual to ..."). */
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCodeValue, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Bad flags, bad values, a malformed or hostile backup: exit 2, nothing changed. */
export class UsageError extends ToolError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
  }
}

/** A preflight check failed: exit 3, nothing changed. */
export class PreflightError extends ToolError {
  readonly failures: readonly { check: string; message: string; fix: string }[];
  constructor(failures: readonly { check: string; message: string; fix: string }[]) {
    // The checks' names are in the one line too: a fleet's summary and a journal keep only that line.
    const names = [...new Set(failures.map((f) => f.check))].join(', ');
    super(
      `preflight refused the run (${failures.length} check${failures.length === 1 ? '' : 's'} failed: ${names}); nothing was changed`,
      ExitCode.preflight,
    );
    this.failures = failures;
  }
}

/** The work finished but something is left behind (old sidecars, restore conflicts): exit 4. */
export class NotConvergedError extends ToolError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.notConverged, hint);
  }
}

/** A step failed part-way: exit 1, with the step and the resume command. */
export class StepError extends ToolError {
  readonly step: string;
  constructor(step: string, message: string, hint?: string) {
    super(`step "${step}" failed: ${message}`, ExitCode.failed, hint);
    this.step = step;
  }
}
