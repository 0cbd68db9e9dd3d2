import type { Plan } from './types.ts';
import type { Arg } from '../secret.ts';

const kubeconfigFlags = new Set(['-k', '--kubeconfig']);

/**
 * A resumed run walks the journaled plan, whose nginx-meshctl/helm commands carry the kubeconfig
 * path of the first run. When --resume is given its own --kubeconfig (the first file is gone, or
 * the user reconnected with another one), the commands use that one instead. Pure.
 */
export function retargetKubeconfig(plan: Plan, kubeconfig: string | undefined): Plan {
  if (!kubeconfig) return plan;
  const child = plan.childKubeconfig;
  // Commands pointed at the private kubeconfig keep it: it is written again from the new file.
  const keep = (a: Arg) => child !== undefined && a === child.path;
  return {
    ...plan,
    ...(child ? { childKubeconfig: { ...child, kubeconfig } } : {}),
    hops: plan.hops.map((hop) => ({
      ...hop,
      steps: hop.steps.map((step) => ({
        ...step,
        commands: step.commands.map((cmd) => ({ ...cmd, args: cmd.args.map((a, i) => (i > 0 && kubeconfigFlags.has(String(cmd.args[i - 1])) && !keep(a) ? kubeconfig : a)) })),
      })),
    })),
  };
}
