import { ExitCode } from '../errors.ts';
import { scrub } from '../secret.ts';
import { isRetryable, KubeApiError } from '../kube/client.ts';
import { reportToolError, type Io } from './report-tool-error.ts';

/**
 * The top-level catch's report of any error: the tool's own errors, the API server's refusals and
 * failures, else the stack. Returns the exit code. This module loads the kube client (for its
 * error class): app.ts imports it only for an error that is not the tool's own.
 */
export function reportError(err: unknown, raw: Io): number {
  // An error may quote a child's stderr or a value from the cluster: no known secret is printed.
  const io: Io = { out: (t) => raw.out(scrub(t)), err: (t) => raw.err(scrub(t)) };
  const own = reportToolError(err, io);
  if (own !== undefined) return own;
  if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
    // The server's message names the verb, resource and user ("pods is forbidden: User x cannot list ...").
    io.err(
      `error: the API server refused ${err.path}: ${(err.body as { message?: string } | undefined)?.message ?? err.message}\n`,
    );
    io.err(
      err.status === 401
        ? 'The credentials of the kubeconfig context are not accepted: log in again or pick another --context.\n'
        : 'Your credentials lack that permission. The permissions the tool needs, with the reason for each, are in manifests/rbac/clusterrole.yaml.\n',
    );
    return ExitCode.failed;
  }
  if (err instanceof KubeApiError || isRetryable(err)) {
    // The API kept failing after the client's bounded retries: say so without a stack trace.
    io.err(`error: the API request kept failing after retries: ${(err as Error).message}\n`);
    io.err('Check that the cluster is reachable (kubectl get --raw /readyz), then run again.\n');
    return ExitCode.failed;
  }
  io.err(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  return ExitCode.failed;
}
