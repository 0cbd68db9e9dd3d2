/**
 * Phase: the namespaces' opt-in label. A hop to 2.0 labels the namespaces with injected workloads
 * (2.0 injects only opted-in ones) when asked (--label-namespaces); a rollback of that hop removes
 * the label from the namespaces the upgrade labelled.
 */
import { objectPath, core } from '../../kube/paths.ts';
import { autoInjectLabel } from '../../mesh/version-notes.ts';
import { step, type Executors } from '../step.ts';

export function labelNamespacesStep(n: number, namespaces: readonly string[]) {
  return step(
    n,
    'label-namespaces',
    `Label ${namespaces.length} namespace(s) ${autoInjectLabel.key}=${autoInjectLabel.enabled} (2.0 injection is opt-in)`,
    {},
    [],
    { namespaces: [...namespaces], label: { [autoInjectLabel.key]: autoInjectLabel.enabled } },
  );
}

export function unlabelNamespacesStep(n: number, namespaces: readonly string[]) {
  return step(
    n,
    'label-namespaces',
    `Remove the label ${autoInjectLabel.key} the upgrade added from ${namespaces.length} namespace(s)`,
    {},
    [],
    { namespaces: [...namespaces], label: { [autoInjectLabel.key]: null } },
  );
}

export const namespaceExecutors: Executors<'label-namespaces'> = {
  async 'label-namespaces'(ctx) {
    const label = ctx.step.params.label;
    const removing = Object.values(label).some((v) => v === null);
    for (const ns of ctx.step.params.namespaces) {
      // A merge patch: a null value removes the label.
      await ctx.deps.kube.request({
        method: 'PATCH',
        path: objectPath(core.namespaces, ns),
        body: { metadata: { labels: label } },
      });
      ctx.progress(`${removing ? 'removed the label from' : 'labelled'} ${ns}`);
    }
    return {};
  },
};
