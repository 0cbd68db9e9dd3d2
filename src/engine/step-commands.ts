/**
 * How a step runs its external commands (helm, nginx-meshctl) through the one runner. Before each
 * command that changes the cluster, two things are asked of the API server, never assumed:
 * - the run still holds its lease (fencing: another run that took it over, or an expiry during an
 *   API outage, stops the run here, before the command);
 * - the cluster the command's own kubeconfig reaches is the run's (server URL and kube-system uid
 *   as journaled at the start: cluster-identity.ts).
 */
import { formatCommand, type Command } from '../exec/runner.ts';
import { StepError } from '../errors.ts';
import { childFailureText } from '../exec/child-output.ts';
import { commandReaches } from './cluster-identity.ts';
import type { StepContext } from './step-context.ts';

/** The checks before `cmd` (or, without one, before a step that changes the cluster through the API). */
export async function beforeChange(ctx: StepContext, cmd?: Command): Promise<void> {
  await ctx.guard.leaseHeld();
  if (!cmd) return;
  const wrong = await commandReaches(cmd, ctx.hop.method, ctx.guard.cluster);
  if (wrong) {
    throw new StepError(
      ctx.step.id,
      `\`${formatCommand(cmd)}\` was not run: ${wrong}`,
      "Nothing was run by this step. Continue on the run's own cluster with --resume DIR (and --context of that cluster).",
    );
  }
}

/** Runs the commands in order; a non-zero exit fails the step with what the command printed (childFailureText). */
export async function runStepCommands(
  ctx: StepContext,
  commands: readonly Command[] = ctx.step.commands,
): Promise<void> {
  for (const cmd of commands) {
    if (cmd.writes) await beforeChange(ctx, cmd);
    ctx.progress(formatCommand(cmd));
    const res = await ctx.deps.exec.run({ ...cmd, timeoutMs: cmd.timeoutMs ?? ctx.timeoutMs + 60_000 });
    if (res.exitCode !== 0) {
      // The head of a Go panic and its first frames, then the last lines: the cause, not only cobra's frames.
      throw new StepError(
        ctx.step.id,
        `${formatCommand(cmd)} exited ${res.exitCode}:\n${childFailureText(`${res.stdout}\n${res.stderr}`)}`,
      );
    }
    for (const line of res.stdout.split('\n').filter(Boolean).slice(-3)) ctx.progress(line);
  }
}
