/**
 * manifests/rbac applied to the test cluster under names unique to this run, and a kubeconfig that
 * holds only a TokenRequest token of its ServiceAccount and the cluster CA: the tool run with it
 * has exactly the role's permissions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { clusterDir, kubectl, kubeconfigPath, testKube, uniqueName } from './cluster.ts';
import { loadDocs, type Doc } from '../unit/distribution/manifests.ts';

export interface BoundServiceAccount {
  id: string;
  docs: Doc[];
  namespace: string;
  name: string;
  kubeconfig: string;
  token: string;
  remove(): Promise<void>;
}

/** The manifests with every cluster-wide name made unique, so parallel runs and a real install do not collide. */
export function renamedManifests(id: string): Doc[] {
  const rename = (n: string) => `${n}-${id}`.slice(0, 63);
  const docs = [...loadDocs('rbac/clusterrole.yaml'), ...loadDocs('rbac/serviceaccount.yaml')];
  return docs.map((d) => {
    const o = structuredClone(d) as Doc & {
      roleRef?: { name: string };
      subjects?: { name: string; namespace: string }[];
    };
    o.metadata.name =
      o.kind === 'RoleBinding' || o.kind === 'ServiceAccount' ? o.metadata.name : rename(o.metadata.name);
    if (o.kind === 'ServiceAccount') o.metadata.namespace = rename('nsm-upgrade');
    if (o.roleRef) o.roleRef.name = rename(o.roleRef.name);
    if (o.kind === 'RoleBinding') o.metadata.name = rename(o.metadata.name);
    for (const s of o.subjects ?? []) s.namespace = rename(s.namespace);
    return o;
  });
}

export async function bindServiceAccount(prefix = 'rbac'): Promise<BoundServiceAccount> {
  const id = uniqueName(prefix);
  const docs = renamedManifests(id);
  const namespace = docs.find((d) => d.kind === 'Namespace')!.metadata.name;
  const name = docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name;
  const admin = await testKube();
  await kubectl(['apply', '-f', '-'], { input: docs.map((d) => dump(d)).join('---\n') });
  const token = (
    await admin.request<{ status: { token: string } }>({
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    })
  ).status.token;
  // Server and CA from the test kubeconfig (the local cluster's CA is also .cluster/pki/ca.crt).
  const cluster = loadKubeConfig({ kubeconfig: kubeconfigPath() }).getCurrentCluster()!;
  const caData =
    cluster.caData ?? fs.readFileSync(cluster.caFile ?? path.join(clusterDir, 'pki/ca.crt')).toString('base64');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-rbac-'));
  const kubeconfig = path.join(tmp, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sa',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
      users: [{ name, user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'test', user: name } }],
    }),
    { mode: 0o600 },
  );
  return {
    id,
    docs,
    namespace,
    name,
    kubeconfig,
    token,
    async remove() {
      for (const d of [...docs].reverse()) {
        await kubectl(
          [
            'delete',
            d.kind,
            d.metadata.name,
            ...(d.metadata.namespace ? ['-n', d.metadata.namespace] : []),
            '--ignore-not-found',
            '--wait=false',
          ],
          { reject: false },
        );
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
