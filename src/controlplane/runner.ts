import { execa } from 'execa';
import type { Log } from '../log.ts';

/** An external command as data: built by pure builders, run by the one runner. */
export interface Command {
  bin: string;
  args: string[];
  /** Does it change the cluster? Writes are skipped in dry-run. */
  writes: boolean;
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when dry-run skipped the command. */
  skipped: boolean;
}

export interface Runner {
  run(cmd: Command): Promise<CommandResult>;
  readonly dryRun: boolean;
}

/** Renders a command for display (quoted as a POSIX shell would need, never executed by one). */
export function formatCommand(cmd: Pick<Command, 'bin' | 'args'>): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [cmd.bin, ...cmd.args].map(q).join(' ');
}

/**
 * The one exec chokepoint: argument arrays only (no shell), writes skipped in dry-run,
 * every command logged before it runs.
 */
export function createRunner(opts: { dryRun: boolean; log: Log; env?: Record<string, string> }): Runner {
  return {
    dryRun: opts.dryRun,
    async run(cmd) {
      const shown = formatCommand(cmd);
      if (opts.dryRun && cmd.writes) {
        opts.log.info(`[dry-run] would run: ${shown}`);
        return { exitCode: 0, stdout: '', stderr: '', skipped: true };
      }
      opts.log.debug(`running: ${shown}`);
      const res = await execa(cmd.bin, cmd.args, {
        reject: false,
        shell: false,
        input: cmd.input,
        env: { ...opts.env, ...cmd.env },
        timeout: cmd.timeoutMs,
        stripFinalNewline: true,
      });
      return { exitCode: res.exitCode ?? (res.failed ? 1 : 0), stdout: String(res.stdout ?? ''), stderr: String(res.stderr ?? ''), skipped: false };
    },
  };
}
