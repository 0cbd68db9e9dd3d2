/**
 * Which cluster is this? The server URL the tool talks to and the uid of namespace kube-system
 * (the same URL can front a rebuilt cluster). Recorded in the journal at the start of a run; a
 * resume or rollback against another cluster is refused. Preflight checks that every external
 * command (helm with --kubeconfig/--kube-context, nginx-meshctl with -k) reaches the server the tool
 * read, and before each command that changes the cluster the command's own kubeconfig is asked
 * again, URL and uid, against what the run journaled (commandReaches).
 */
import type { Deps } from '../deps.ts';
import { PreflightError } from '../errors.ts';
import { createKube } from '../kube/client.ts';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import type { Command } from '../exec/runner.ts';
import { objectPath, core } from '../kube/paths.ts';
import type { ClusterIdentity } from './journal-schema.ts';
import type { Plan } from './types.ts';

export async function clusterIdentity(deps: Pick<Deps, 'kube'>): Promise<ClusterIdentity> {
  const ns = await deps.kube.request<{ metadata?: { uid?: string } }>({
    path: objectPath(core.namespaces, 'kube-system'),
  });
  return { server: deps.kube.server, uid: ns.metadata?.uid ?? '' };
}

/** Refuses (exit 3) a resume whose cluster is not the one the run started on. */
export async function assertSameCluster(deps: Pick<Deps, 'kube'>, journaled: ClusterIdentity): Promise<void> {
  const now = await clusterIdentity(deps);
  if (now.uid === journaled.uid && now.server === journaled.server) return;
  const what =
    now.uid !== journaled.uid
      ? `namespace kube-system has uid ${now.uid}, the run's cluster had ${journaled.uid}`
      : `the server is ${now.server}, the run's was ${journaled.server}`;
  throw new PreflightError([
    {
      check: 'cluster',
      message: `this is not the cluster the run started on: ${what}`,
      fix: 'resume with the --kubeconfig and --context of the cluster the run started on; nothing was changed',
    },
  ]);
}

const value = (args: readonly unknown[], ...flags: string[]): string | undefined => {
  const i = args.findIndex((a) => typeof a === 'string' && flags.includes(a));
  return i >= 0 && typeof args[i + 1] === 'string' ? (args[i + 1] as string) : undefined;
};

/** Pure: the kubeconfig and context a command's own flags point it at. */
export function commandTarget(
  cmd: Pick<Command, 'args'>,
  method: 'meshctl' | 'helm',
): { kubeconfig: string | undefined; context: string | undefined } {
  return method === 'helm'
    ? { kubeconfig: value(cmd.args, '--kubeconfig'), context: value(cmd.args, '--kube-context') }
    : { kubeconfig: value(cmd.args, '-k', '--kubeconfig'), context: undefined };
}

/**
 * Asks the cluster that `cmd`'s own kubeconfig reaches who it is, right before the command runs:
 * undefined when it is `expected` (server URL and kube-system uid), else what is wrong. A command
 * without a kubeconfig of its own is wrong too: it would read whatever the user's is now.
 */
export async function commandReaches(
  cmd: Command,
  method: 'meshctl' | 'helm',
  expected: ClusterIdentity,
): Promise<string | undefined> {
  const t = commandTarget(cmd, method);
  if (!t.kubeconfig)
    return "it has no kubeconfig of its own, so it would act on whatever the user's kubeconfig names now";
  let now: ClusterIdentity;
  try {
    now = await clusterIdentity({
      kube: await createKube(loadKubeConfig(t), { retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 } }),
    });
  } catch (err) {
    return `its kubeconfig ${t.kubeconfig} does not reach a cluster that says who it is: ${(err as Error).message}`;
  }
  if (now.server !== expected.server)
    return `its kubeconfig ${t.kubeconfig} reaches ${now.server}, the run's cluster is ${expected.server}`;
  if (now.uid !== expected.uid)
    return `its kubeconfig ${t.kubeconfig} reaches a cluster whose kube-system namespace has uid ${now.uid}, the run's had ${expected.uid}`;
  return undefined;
}

/** Pure: the kubeconfig and context each external command of the plan that changes the cluster is pointed at. */
export function childTargets(
  plan: Plan,
): { step: string; kubeconfig: string | undefined; context: string | undefined }[] {
  const out = new Map<string, { step: string; kubeconfig: string | undefined; context: string | undefined }>();
  for (const hop of plan.hops)
    for (const step of hop.steps)
      for (const cmd of [...step.commands, ...(step.kind === 'deploy' ? [step.params.undo] : [])]) {
        if (!cmd.writes) continue; // `helm show crds` reads a chart, not the cluster
        const t = commandTarget(cmd, hop.method);
        const key = `${t.kubeconfig ?? ''}\0${t.context ?? ''}`;
        if (!out.has(key)) out.set(key, { step: step.id, ...t });
      }
  return [...out.values()];
}

/** Every external command must reach the server the tool read (detect, backup and preflight used it). */
/** A preflight failure (preflight.ts's shape, not imported: preflight imports this module). */
interface TargetFailure {
  check: 'cluster';
  message: string;
  fix: string;
}

export function checkChildTargets(deps: Pick<Deps, 'kube'>, plan: Plan): TargetFailure[] {
  const failures: TargetFailure[] = [];
  for (const t of childTargets(plan)) {
    let server: string | undefined;
    try {
      server = loadKubeConfig({ kubeconfig: t.kubeconfig, context: t.context }).getCurrentCluster()?.server;
    } catch (err) {
      failures.push({
        check: 'cluster',
        message: `${t.step}'s command would read kubeconfig ${t.kubeconfig ?? '(default)'}, which does not load: ${(err as Error).message}`,
        fix: 'pass --kubeconfig (and --context) explicitly',
      });
      continue;
    }
    if (server !== deps.kube.server) {
      failures.push({
        check: 'cluster',
        message: `${t.step}'s command would reach ${server ?? 'no server'}, but the tool read the cluster at ${deps.kube.server}`,
        fix: 'pass --kubeconfig and --context explicitly, so that helm and nginx-meshctl act on the cluster the tool reads',
      });
    }
  }
  return failures;
}
