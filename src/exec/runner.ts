import { execa } from 'execa';
import type { Log } from '../log.ts';
import { revealArg, type Arg } from '../secret.ts';
import { childEnvironment } from './child-env.ts';

/** An external command as data: built by pure builders, run by the one runner. */
export interface Command {
  bin: string;
  /** Secret arguments (a registry password) show as `<redacted>` everywhere but the child's argv. */
  args: Arg[];
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

/** How a caller follows a long command as it runs (the fleet follows each cluster's run). */
export interface RunHooks {
  /** Each line the command writes, as it writes it (without its newline); the result still holds all of it. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** The command's process id, once it started. */
  onStart?: (pid: number) => void;
}

export interface Runner {
  run(cmd: Command, hooks?: RunHooks): Promise<CommandResult>;
  readonly dryRun: boolean;
  /** Sends `signal` to the process group of every command still running (a Ctrl-C passed on). */
  signalAll(signal: NodeJS.Signals): void;
  /**
   * Stops every command still running: SIGTERM to its whole process group, SIGKILL after
   * `graceMs`; resolves when they have exited. For a second Ctrl-C or a SIGTERM of the tool.
   */
  stopAll(graceMs?: number): Promise<void>;
}

/** Renders a command for display (quoted as a POSIX shell would need, never executed by one). */
export function formatCommand(cmd: Pick<Command, 'bin' | 'args'>): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [cmd.bin, ...cmd.args].map((a) => (typeof a === 'string' ? q(a) : String(a))).join(' ');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** An execa line transform that shows each line to `onLine` and keeps it in the result. */
function lineTap(onLine: NonNullable<RunHooks['onLine']>, stream: 'stdout' | 'stderr') {
  return function* (line: string) {
    onLine(line, stream);
    yield line;
  };
}

/**
 * The one exec chokepoint: argument arrays only (no shell), writes skipped in dry-run,
 * every command logged before it runs.
 *
 * Each command runs in its own process group (detached), so the Ctrl-C that the terminal sends
 * to the tool's group does not cut a `helm upgrade` or `nginx-meshctl remove` off half-way: the
 * tool decides. After the first Ctrl-C the running command finishes; after the second,
 * stopAll() ends it (and whatever it started) and waits for it.
 */
export function createRunner(opts: { dryRun: boolean; log: Log; env?: Record<string, string> }): Runner {
  const running = new Map<number, Promise<unknown>>();
  return {
    dryRun: opts.dryRun,
    async run(cmd, hooks) {
      const shown = formatCommand(cmd);
      if (opts.dryRun && cmd.writes) {
        opts.log.info(`[dry-run] would run: ${shown}`);
        return { exitCode: 0, stdout: '', stderr: '', skipped: true };
      }
      opts.log.debug(`running: ${shown}`);
      const child = execa(cmd.bin, cmd.args.map(revealArg), {
        reject: false,
        shell: false,
        detached: true,
        input: cmd.input,
        // Nothing in the user's environment may point the command at another cluster (child-env.ts).
        env: childEnvironment(process.env, { ...opts.env, ...cmd.env }),
        extendEnv: false,
        timeout: cmd.timeoutMs,
        stripFinalNewline: true,
        ...(hooks?.onLine ? { stdout: lineTap(hooks.onLine, 'stdout'), stderr: lineTap(hooks.onLine, 'stderr') } : {}),
      });
      const pid = child.pid;
      if (pid !== undefined) {
        running.set(pid, child);
        hooks?.onStart?.(pid);
      }
      try {
        const res = await child;
        return {
          exitCode: res.exitCode ?? (res.failed ? 1 : 0),
          stdout: String(res.stdout ?? ''),
          stderr: String(res.stderr ?? ''),
          skipped: false,
        };
      } finally {
        if (pid !== undefined) {
          running.delete(pid);
          signalGroup(pid, 'SIGTERM'); // what the command left running in its group goes with it
        }
      }
    },
    signalAll(signal) {
      for (const pid of running.keys()) signalGroup(pid, signal);
    },
    async stopAll(graceMs = 10_000) {
      const children = [...running.entries()];
      for (const [pid] of children) signalGroup(pid, 'SIGTERM');
      const kill = setTimeout(() => {
        for (const [pid] of children) signalGroup(pid, 'SIGKILL');
      }, graceMs);
      await Promise.allSettled(children.map(([, c]) => c));
      clearTimeout(kill);
    },
  };
}
