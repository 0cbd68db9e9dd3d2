/**
 * The signal rules of a command that changes the cluster, installed when it starts, before
 * preflight's dry runs and the confirmation prompt. SIGINT (Ctrl-C), SIGTERM and SIGHUP (the
 * terminal closed) are handled alike.
 * - Until the run holds its lease, nothing was changed yet: a signal stops the running child
 *   commands (preflight's dry runs run in process groups of their own, which the terminal's Ctrl-C
 *   does not reach: left alone they would outlive the tool), removes the private kubeconfig and
 *   exits 130.
 * - Under the lease, the first signal aborts `abort` (the running step finishes, waits and retries
 *   end, the run reports what it did); the second stops the running command's group and waits for
 *   it, releases the lease, removes the private kubeconfig (it may hold inline credentials) and
 *   exits 130.
 */
import type { Deps } from '../deps.ts';
import { removePrivateFilesNow } from '../private-files.ts';

const handled: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface RunSignals {
  /** Aborted by the first signal under the lease (or when the lease is lost). */
  readonly abort: AbortController;
  /** From now on the run holds its lease: the first signal asks it to stop, the second calls `release` on the way out. */
  underLease(said: { first: string; second?: string | undefined }, release: () => Promise<void>): void;
  /** Removes the handlers (the command is done). */
  dispose(): void;
}

/** How long the second signal waits for the children (then SIGKILL), and for everything (then exit anyway). */
const childGraceMs = 5_000;
const exitAfterMs = 15_000;

export function installRunSignals(deps: Pick<Deps, 'exec'>, operation: string): RunSignals {
  const abort = new AbortController();
  let lease: { said: { first: string; second?: string | undefined }; release: () => Promise<void> } | undefined;
  let signals = 0;
  let stopping = false;
  const exit = () => {
    removePrivateFilesNow();
    process.exit(130);
  };
  const stopNow = (line: string | undefined, release?: () => Promise<void>) => {
    if (stopping) return;
    stopping = true;
    if (line) process.stderr.write(`\n${line}\n`);
    setTimeout(exit, exitAfterMs).unref();
    void deps.exec
      .stopAll(childGraceMs)
      .finally(() => release?.())
      .catch(() => undefined)
      .finally(exit);
  };
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (!lease) return stopNow(`${name}: stopping; ${operation} had not begun changing the cluster.`);
    if (signals === 1 && !abort.signal.aborted) {
      process.stderr.write(`\n${lease.said.first}\n`);
      abort.abort(new Error('interrupted'));
      return;
    }
    // At once, but cleanly: the running nginx-meshctl/helm (own process group) is stopped and
    // waited for, and the lease is released, so a resume is not refused. Exit 130.
    stopNow(lease.said.second, lease.release);
  };
  for (const s of handled) process.on(s, onSignal);
  return {
    abort,
    underLease(said, release) {
      lease = { said, release };
      signals = 0;
    },
    dispose() {
      for (const s of handled) process.off(s, onSignal);
    },
  };
}
