import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../errors.ts';

export interface KubeconfigOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/**
 * Loads the kubeconfig the way kubectl does (--kubeconfig, else $KUBECONFIG, else ~/.kube/config)
 * and selects --context. Errors name the file or context, never the file's contents.
 */
export function loadKubeConfig(opts: KubeconfigOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const where = opts.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
    const why = (err as NodeJS.ErrnoException).code ?? 'unreadable or not valid YAML';
    throw new UsageError(`cannot load kubeconfig ${where}: ${why}`, 'Pass a readable kubeconfig with --kubeconfig FILE.');
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new UsageError(`context "${opts.context}" is not in the kubeconfig (contexts: ${known})`, 'Pick one with --context NAME.');
    }
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new UsageError('the kubeconfig has no current context with a cluster', 'Pass --context NAME or set current-context.');
  }
  return kc;
}
