import { scrub } from './secret.ts';

/** A small leveled logger writing to stderr; stdout is kept for the command's output. Known secret values never reach it (scrub). */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export function createLog(opts: { verbose: number; write?: (line: string) => void }): Log {
  const out = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const write = (line: string) => out(scrub(line));
  return {
    info: (m) => write(m),
    warn: (m) => write(`warning: ${m}`),
    error: (m) => write(`error: ${m}`),
    debug: (m) => {
      if (opts.verbose > 0) write(`debug: ${m}`);
    },
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const log = createLog({ verbose: 1, write: (l) => lines.push(l) });
  return Object.assign(log, { lines });
}
