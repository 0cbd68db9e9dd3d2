/**
 * manifests/rbac on the real API server: the ServiceAccount and bindings from serviceaccount.yaml
 * (renamed to be unique to this run), a token minted with TokenRequest, a kubeconfig holding only
 * that token and the cluster CA, and SelfSubjectAccessReviews asked as that ServiceAccount: it may
 * do every row of src/preflight/permissions.ts and take the lease, and nothing beyond the role.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, type Kube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { stepPermissions } from '../../src/preflight/permissions.ts';
import { leaseNamespace } from '../../src/engine/lease.ts';
import { clusterEnv, kubectl, repoRoot, runTool, testKube, uniqueName } from '../support/cluster.ts';
import { bindServiceAccount, type BoundServiceAccount } from '../support/rbac.ts';

const id = uniqueName('rbac');
const meshNamespace = 'nginx-mesh';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-rbac-'));

let saKube: Kube;
let admin: Kube;
let saKubeconfig: string;
let saToken: string;
let sa: BoundServiceAccount;
let saNamespace: string;
let saName: string;

/**
 * The TrafficSplit CRD, served: other test files delete and re-create the mesh CRDs, so wait out a
 * deletion in progress and install manifests/crds' copy when it is gone.
 */
async function ensureTrafficSplitCrd(): Promise<void> {
  const name = 'trafficsplits.split.smi-spec.io';
  for (let i = 0; i < 60; i++) {
    const got = await kubectl(['get', 'crd', name, '-o', 'jsonpath={.metadata.deletionTimestamp}'], { reject: false });
    if (got.exitCode !== 0) await kubectl(['apply', '-f', path.join(repoRoot, `manifests/crds/${name}.yaml`)]);
    else if (got.stdout === '') {
      await kubectl(['wait', '--for=condition=Established', `crd/${name}`, '--timeout=60s']);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`CRD ${name} stayed terminating for a minute`);
}

async function allowed(
  kube: Kube,
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
): Promise<boolean> {
  const review = await kube.request<{ status?: { allowed?: boolean } }>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
    },
  });
  return review.status?.allowed === true;
}

beforeAll(async () => {
  admin = await testKube();
  sa = await bindServiceAccount(id);
  saNamespace = sa.namespace;
  saName = sa.name;
  saKube = await createKube(loadKubeConfig({ kubeconfig: sa.kubeconfig }));
  saKubeconfig = sa.kubeconfig;
  saToken = sa.token;
});

afterAll(async () => {
  await sa.remove();
  await kubectl(['delete', 'namespace', workNamespace, '--ignore-not-found', '--wait=false'], { reject: false });
  fs.rmSync(tmp, { recursive: true, force: true });
});

const workNamespace = `${id}-work`.slice(0, 63);

describe('the ServiceAccount bound to manifests/rbac', () => {
  it("is really that ServiceAccount (the token is not the admin's)", async () => {
    const review = await saKube.request<{ status: { userInfo: { username: string } } }>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${saNamespace}:${saName}`);
  });

  for (const [kind, perms] of Object.entries(stepPermissions)) {
    it(`may do what the "${kind}" steps need`, async () => {
      const denied = [];
      for (const p of perms) {
        const ns = p.namespace === '$mesh' ? meshNamespace : p.namespace || undefined;
        if (!(await allowed(saKube, p.verb, p.group, p.resource, ns)))
          denied.push(`${p.verb} ${p.resource}.${p.group} ${ns ?? '(cluster)'}`);
      }
      expect(denied).toEqual([]);
    });
  }

  it(`may take the run lease in namespace ${leaseNamespace}, and only there`, async () => {
    for (const verb of ['get', 'create', 'update', 'delete'])
      expect(await allowed(saKube, verb, 'coordination.k8s.io', 'leases', leaseNamespace), verb).toBe(true);
    expect(await allowed(saKube, 'create', 'coordination.k8s.io', 'leases', 'kube-system')).toBe(false);
  });

  it('may not do what the tool never does', async () => {
    const never: [string, string, string, string?][] = [
      ['get', '', 'nodes'],
      ['delete', '', 'nodes'],
      ['create', '', 'pods', 'default'],
      ['create', '', 'pods/exec', 'default'],
      ['impersonate', '', 'users'],
      ['create', '', 'serviceaccounts/token', 'kube-system'],
      ['create', '', 'persistentvolumes'],
      ['create', 'certificates.k8s.io', 'certificatesigningrequests'],
      ['update', 'coordination.k8s.io', 'leases', 'kube-system'],
    ];
    for (const [verb, group, resource, ns] of never)
      expect(await allowed(saKube, verb, group, resource, ns), `${verb} ${resource}`).toBe(false);
  });

  it('can create and bind a cluster role with rules it does not hold (escalate/bind, as helm does for the chart)', async () => {
    const name = `nsm-upgrade-escalate-${id}`.slice(0, 63);
    try {
      await saKube.request({
        method: 'POST',
        path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name },
          rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
        },
      });
      await saKube.request({
        method: 'POST',
        path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
          subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: saNamespace }],
        },
      });
      expect(
        (
          await admin.request<{ roleRef: { name: string } }>({
            path: `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`,
          })
        ).roleRef.name,
      ).toBe(name);
    } finally {
      await admin
        .request({ method: 'DELETE', path: `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}` })
        .catch(() => undefined);
      await admin
        .request({ method: 'DELETE', path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}` })
        .catch(() => undefined);
    }
  });

  it('runs backup and restore as the ServiceAccount, and never prints its token', async () => {
    await kubectl(['create', 'namespace', workNamespace], { reject: false });
    await ensureTrafficSplitCrd();
    const split = {
      apiVersion: 'split.smi-spec.io/v1alpha3',
      kind: 'TrafficSplit',
      metadata: { name: 'web', namespace: workNamespace },
      spec: { service: 'web', backends: [{ service: 'web-v1', weight: 100 }] },
    };
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(split) });
    const env = { KUBECONFIG: saKubeconfig };
    const dir = path.join(tmp, 'backup');
    const backup = await runTool(['backup', '-n', workNamespace, '--dir', dir], { env });
    expect(backup.exitCode, backup.stderr).toBe(0);
    await kubectl(['delete', 'trafficsplits.split.smi-spec.io', 'web', '-n', workNamespace]);
    const restore = await runTool(['restore', '--from', dir], { env });
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/created 1\b/);
    expect(
      (
        await kubectl([
          'get',
          'trafficsplits.split.smi-spec.io',
          'web',
          '-n',
          workNamespace,
          '-o',
          'jsonpath={.spec.backends[0].service}',
        ])
      ).stdout,
    ).toBe('web-v1');
    for (const out of [backup.stdout, backup.stderr, restore.stdout, restore.stderr])
      expect(out.includes(saToken)).toBe(false);
  });

  // helm and nginx-meshctl create the chart's objects with these credentials. A server-side dry
  // run of `create` goes through authorization and the RBAC escalation checks and changes nothing.
  // Objects other tests already created answer AlreadyExists (or "terminating" while a test
  // removes CRDs): that is state, not permission, so only RBAC denials fail the test.
  for (const version of ['1.6.0', '1.7.0', '2.0.0']) {
    it(`may create every object of the NSM ${version} chart (kubectl create --dry-run=server as the ServiceAccount)`, async () => {
      const env = clusterEnv();
      const chart = path.join(repoRoot, 'test/fixtures/charts/nginx-service-mesh', version);
      const rendered = await execa(env.HELM3 ?? 'helm', [
        'template',
        'nsm',
        chart,
        '--namespace',
        workNamespace,
        '--include-crds',
      ]);
      await kubectl(['create', 'namespace', workNamespace], { reject: false });
      const res = await execa(
        env.KUBECTL!,
        ['--kubeconfig', saKubeconfig, 'create', '--dry-run=server', '-n', workNamespace, '-o', 'name', '-f', '-'],
        { input: String(rendered.stdout), reject: false },
      );
      const denied = String(res.stderr)
        .split('\n')
        .filter((l) => /forbidden: user "system:serviceaccount:|attempting to grant RBAC permissions/i.test(l));
      expect(denied).toEqual([]);
      const created = String(res.stdout).split('\n').filter(Boolean);
      // The namespaced objects are new in this run's namespace, so they must have been created.
      for (const kind of ['serviceaccount/', 'configmap/', 'deployment.apps/', 'service/'])
        expect(
          created.some((n) => n.startsWith(kind)),
          `${kind} in ${created.join(' ')}\n${String(res.stderr)}`,
        ).toBe(true);
    });
  }
});
