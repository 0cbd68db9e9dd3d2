import readline from 'node:readline/promises';
import { UsageError } from '../errors.ts';

/**
 * Asks `question` on the terminal before the first change, unless --yes. Without a terminal (and
 * without --yes) it refuses, naming `what` needs the confirmation and `seePlan`, the command that
 * shows the plan; an answer other than y/yes stops with nothing changed.
 */
export async function confirmOrStop(yes: boolean, question: string, what: string, seePlan: string): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw new UsageError(
      `${what} and needs confirmation, but stdin is not a terminal`,
      `Pass --yes to run without asking (after reading the plan: ${seePlan}).`,
    );
  const rl = promptOnTerminal();
  const answer = await rl.question(`${question}. Continue? (y/n) `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed; nothing was changed');
}

/**
 * A prompt on the terminal. There Ctrl-C reaches readline as a key, not as a signal: it is passed on
 * as SIGINT, so the command's signal rules (signals.ts) decide, as anywhere else in the run.
 */
export function promptOnTerminal(): readline.Interface {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  return rl;
}
