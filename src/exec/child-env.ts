/**
 * The environment helm and nginx-meshctl get. Each command is pointed at the run's cluster by its
 * own flags (a private kubeconfig of exactly the run's context: upgrade/child-kubeconfig.ts); a
 * variable of the user's shell must not point it elsewhere, so these are left out of every child's
 * environment:
 * - `KUBECONFIG`: client-go's default loading rules, which nginx-meshctl falls back to when its
 *   `-k` file is missing (vendor pkg/k8s/k8sclient.go, GetKubeConfig and NewK8SClient) and which
 *   helm reads when `--kubeconfig` is not given;
 * - helm's own overrides (helm pkg/cli/environment.go, New): `HELM_KUBECONTEXT`, `HELM_KUBETOKEN`,
 *   `HELM_KUBEASUSER`, `HELM_KUBEASGROUPS`, `HELM_KUBEAPISERVER`, `HELM_KUBECAFILE`,
 *   `HELM_KUBETLS_SERVER_NAME`, `HELM_KUBEINSECURE_SKIP_TLS_VERIFY` (each wins over the kubeconfig)
 *   and `HELM_NAMESPACE`;
 * - where helm keeps its releases (helm pkg/cmd/root.go and pkg/action/action.go): `HELM_DRIVER`
 *   (configmap, sql or memory would hide the release from the tool, which reads Secrets),
 *   `HELM_DRIVER_SQL_CONNECTION_STRING`, `HELM_MEMORY_DRIVER_DATA`.
 */
export const clusterOverrideVariables: readonly string[] = [
  'KUBECONFIG',
  'HELM_KUBECONTEXT',
  'HELM_KUBETOKEN',
  'HELM_KUBEASUSER',
  'HELM_KUBEASGROUPS',
  'HELM_KUBEAPISERVER',
  'HELM_KUBECAFILE',
  'HELM_KUBETLS_SERVER_NAME',
  'HELM_KUBEINSECURE_SKIP_TLS_VERIFY',
  'HELM_NAMESPACE',
  'HELM_DRIVER',
  'HELM_DRIVER_SQL_CONNECTION_STRING',
  'HELM_MEMORY_DRIVER_DATA',
];

/**
 * Pure: `base` without the variables above, then `extra` (what the caller sets on purpose, e.g. the
 * fleet passing KUBECONFIG to its own runs of this tool, which pin their children themselves).
 */
export function childEnvironment(
  base: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !clusterOverrideVariables.includes(k)) out[k] = v;
  return { ...out, ...extra };
}
