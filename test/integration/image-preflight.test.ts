/**
 * The image check of preflight (src/upgrade/image-preflight.ts) against the test bed's registry
 * (test/cluster/registry.ts): meshes deployed from the registry's mirror path with its credentials
 * (the real nginx-meshctl 1.7.0, and Helm with the reference charts), upgraded to 2.0.0 by the tool
 * with the real 2.0.0 binary. A deleted image, a wrong password, an image without the nodes'
 * platform and an unreachable registry each refuse the run (exit 3) with nothing changed; the image
 * put back, the same upgrade converges.
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import type { Kube } from '../../src/kube/client.ts';
import {
  clusterEnv,
  escapeRegExp,
  kubeconfigPath,
  runTool,
  testDeps,
  testKube,
  uniqueName,
  type ToolResult,
} from '../support/cluster.ts';
import { registryTool, testRegistry, type TestRegistry } from '../support/registry.ts';
import { meshctlFor, missingRealMeshctl } from '../support/real-meshctl.ts';
import { expectConverged, setUpMesh, type Scenario } from '../support/upgrade-scenario.ts';
import { populate, removeMesh, snapshot, waitRolledOut } from '../support/mesh-scenario.ts';
import { referenceChartsDir } from '../cluster/chart-images.ts';
import { checkImages } from '../../src/preflight/images.ts';
import { createRegistryClient } from '../../src/images/registry-client.ts';
import type { Plan } from '../../src/engine/types.ts';

const reg: TestRegistry | undefined = testRegistry();
afterAll(() => reg?.agent.destroy());
const noRegistry =
  'the cluster has no registry (.cluster/env lacks NSM_REGISTRY: restart it with npm run cluster:down && npm run cluster:up)';

/** What an upgrade would change first: Deployments and their images, release revisions, CRDs. */
async function meshState(kube: Kube, ns: string): Promise<unknown> {
  const deps = await kube.request<{
    items: { metadata: { name: string }; spec: { template: { spec: { containers: { image: string }[] } } } }[];
  }>({ path: `/apis/apps/v1/namespaces/${ns}/deployments` });
  const secrets = await kube.request<{ items: { metadata: { name: string } }[] }>({
    path: `/api/v1/namespaces/${ns}/secrets`,
    query: { labelSelector: 'owner=helm' },
  });
  const crds = await kube.request<{ items: { metadata: { name: string; resourceVersion: string } }[] }>({
    path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  });
  return {
    deployments: deps.items
      .map((d) => `${d.metadata.name}=${d.spec.template.spec.containers.map((c) => c.image).join(',')}`)
      .sort(),
    releases: secrets.items.map((s) => s.metadata.name).sort(),
    crds: crds.items.map((c) => `${c.metadata.name}@${c.metadata.resourceVersion}`).sort(),
  };
}

/** A loopback port nothing listens on: a registry that is down. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const refusedNothingChanged = async (r: ToolResult, kube: Kube, ns: string, before: unknown) => {
  expect(r.exitCode, r.stderr + r.stdout).toBe(3);
  expect(r.stderr).toMatch(/preflight refused the run \(.*images.*\); nothing was changed/);
  expect(await meshState(kube, ns)).toEqual(before);
};

describe('image preflight: nginx-meshctl 1.7.0 deployed from the registry with its credentials, manual upgrade to 2.0.0 (real binaries)', () => {
  let s: Scenario | undefined;
  let before: unknown;
  const sidecar = () => `${reg!.mirror}/nginx-mesh-sidecar:2.0.0`;
  const args = () => [
    '--to',
    '2.0.0',
    '--strategy',
    'manual',
    '--mesh-namespace',
    s!.meshNamespace,
    '--meshctl-current',
    meshctlFor('1.7.0').bin,
    '--meshctl',
    meshctlFor('2.0.0').bin,
    '--registry-ca',
    reg!.env.NSM_REGISTRY_CA!,
    '--yes',
    '--timeout',
    '3m',
  ];
  const backup = () => ['--backup-dir', path.join(path.dirname(s!.backupDir), uniqueName('run'))];

  beforeAll(async () => {
    if (!reg || missingRealMeshctl()) return;
    s = await setUpMesh({
      method: 'meshctl',
      from: '1.7.0',
      realMeshctl: true,
      optIn: true,
      deployFlags: [
        '--registry-server',
        reg.mirror,
        '--registry-username',
        reg.username,
        '--registry-password',
        reg.password,
        '--disable-public-images',
      ],
    });
    before = await meshState(s.kube, s.meshNamespace);
  }, 300_000);
  afterAll(async () => {
    if (reg) await registryTool(reg, ['push', sidecar()]);
    await s?.cleanup();
  }, 300_000);
  const skip = (ctx: { skip: (c: boolean, r: string) => void }) => {
    ctx.skip(!reg, noRegistry);
    ctx.skip(Boolean(missingRealMeshctl()), missingRealMeshctl() ?? '');
  };

  it('plan lists every image of the hop under the mirror, sidecar and hooks included (text and -o json)', async (ctx) => {
    skip(ctx);
    const text = await runTool([
      'plan',
      ...args().filter((a) => !['--yes', '--registry-ca', reg!.env.NSM_REGISTRY_CA!].includes(a)),
    ]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /Images \(11, from the chart nginx-meshctl 2\.0\.0 embeds, with registry 127\.0\.0\.1:\d+\/nsm, tag 2\.0\.0, no public images, kubernetes\):/,
    );
    const json = await runTool([
      'plan',
      '-o',
      'json',
      ...args().filter((a) => !['--yes', '--registry-ca', reg!.env.NSM_REGISTRY_CA!].includes(a)),
    ]);
    const plan = JSON.parse(json.stdout) as Plan;
    expect(plan.hops[0]!.images!.images.map((u) => u.image)).toEqual(
      reg!.images.versions['2.0.0']!.filter((i) => !/spiffe-csi-driver|csi-node-driver-registrar|ubuntu/.test(i)),
    );
    expect(plan.hops[0]!.images!.images.find((u) => u.image === sidecar())!.uses).toEqual([
      'injected sidecar (ConfigMap/meshconfig)',
    ]);
  });

  it('refuses (exit 3) when a 2.0.0 image is missing from the registry, naming it and the mirror command; nothing changed', async (ctx) => {
    skip(ctx);
    expect((await registryTool(reg!, ['delete', sidecar()])).exitCode).toBe(0);
    try {
      const r = await runTool([...args(), ...backup()]);
      await refusedNothingChanged(r, s!.kube, s!.meshNamespace, before);
      expect(r.stderr).toContain(
        `images: ${sidecar()} (hop 1: injected sidecar (ConfigMap/meshconfig)) is not in its registry`,
      );
      expect(r.stderr).toContain(`crane copy docker-registry.nginx.com/nsm/nginx-mesh-sidecar:2.0.0 ${sidecar()}`);
      expect(r.stderr).toMatch(/image check: 11 image\(s\) of 1 hop\(s\) in 1 registry, \d+ request\(s\), [\d.]+s/);
      expect(r.stderr + r.stdout).not.toContain(reg!.password);
    } finally {
      expect((await registryTool(reg!, ['push', sidecar()])).exitCode).toBe(0);
    }
  });

  it('refuses a wrong password, naming the credential to fix and never the password', async (ctx) => {
    skip(ctx);
    const wrong = `${reg!.password}-wrong`;
    const r = await runTool([...args(), ...backup(), '--deploy-flag', `registry-password=${wrong}`]);
    await refusedNothingChanged(r, s!.kube, s!.meshNamespace, before);
    expect(r.stderr).toMatch(
      new RegExp(
        `${escapeRegExp(sidecar())} .*cannot be read: the registry refused the credentials of the hop1\\.deploy command \\(user nsm-test\\): HTTP 401`,
      ),
    );
    expect(r.stderr).toContain('--deploy-flag registry-password=PASSWORD');
    expect(r.stderr + r.stdout).not.toContain(wrong);
  });

  it("refuses an image that has no manifest for the nodes' platform, naming the nodes", async (ctx) => {
    skip(ctx);
    const controller = `${reg!.mirror}/nginx-mesh-controller:2.0.0`;
    expect((await registryTool(reg!, ['push', controller, '--platforms', 'linux/arm64'])).exitCode).toBe(0);
    try {
      const r = await runTool([...args(), ...backup()]);
      await refusedNothingChanged(r, s!.kube, s!.meshNamespace, before);
      expect(r.stderr).toMatch(
        /nginx-mesh-controller:2\.0\.0 \(hop 1: Deployment\/nginx-mesh-controller\) has no manifest for linux\/amd64, the platform of nodes kwok-node-0 \(linux\/amd64\), kwok-node-1 \(linux\/amd64\); it has linux\/arm64/,
      );
      expect(r.stderr).toContain('mirror it again with every platform');
    } finally {
      expect((await registryTool(reg!, ['push', controller])).exitCode).toBe(0);
    }
  });

  it('with --require-images, a registry that is down refuses the run, saying the check did not happen', async (ctx) => {
    skip(ctx);
    const down = `127.0.0.1:${await deadPort()}/nsm`;
    const r = await runTool([...args(), ...backup(), '--deploy-flag', `registry-server=${down}`, '--require-images']);
    await refusedNothingChanged(r, s!.kube, s!.meshNamespace, before);
    expect(r.stderr).toMatch(
      new RegExp(
        `the image check did not happen for 11 image\\(s\\) of ${down.split('/')[0]}: this machine cannot reach it \\(ECONNREFUSED`,
      ),
    );
  });

  it('with the image put back, the same upgrade converges; --prepull first pulls the images on every node (a DaemonSet with the pull secret, removed after)', async (ctx) => {
    skip(ctx);
    // What the pre-pull makes, as the API server saw it (KWOK plays the kubelet: its pods run at once).
    const seen: { pods: Map<string, { node: string; images: string[]; secrets: string[] }>; secret?: string } = {
      pods: new Map(),
    };
    const abort = new AbortController();
    const ns = s!.meshNamespace;
    const watching = Promise.all([
      s!.kube.watch<{
        metadata: { name: string };
        spec: { nodeName?: string; imagePullSecrets?: { name: string }[]; containers: { image: string }[] };
      }>(
        `/api/v1/namespaces/${ns}/pods`,
        { labelSelector: 'app.kubernetes.io/name=nsm-upgrade-prepull' },
        (e) => {
          if (e.object.spec.nodeName)
            seen.pods.set(e.object.metadata.name, {
              node: e.object.spec.nodeName,
              images: e.object.spec.containers.map((c) => c.image),
              secrets: (e.object.spec.imagePullSecrets ?? []).map((x) => x.name),
            });
        },
        abort.signal,
      ),
      s!.kube.watch<{ metadata: { name: string }; type?: string }>(
        `/api/v1/namespaces/${ns}/secrets`,
        { labelSelector: 'app.kubernetes.io/name=nsm-upgrade-prepull' },
        (e) => {
          seen.secret = `${e.object.metadata.name} ${e.object.type}`;
        },
        abort.signal,
      ),
    ]).catch(() => undefined);
    const r = await runTool([...args(), ...backup(), '--prepull']);
    abort.abort();
    await watching;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/image check: 11 image\(s\)/);
    expect(r.stdout).toMatch(/\[prepull\].*10 image\(s\) pulled on 2 node\(s\)/);
    const want = reg!.images.versions['2.0.0']!.filter(
      (i) => !/spiffe-csi-driver|csi-node-driver-registrar|ubuntu|kubectl/.test(i),
    );
    expect([...seen.pods.values()].map((p) => p.node).sort()).toEqual(['kwok-node-0', 'kwok-node-1']);
    for (const p of seen.pods.values())
      expect(p).toMatchObject({ images: want, secrets: ['nsm-upgrade-prepull-pull-secret'] });
    expect(seen.secret).toBe('nsm-upgrade-prepull-pull-secret kubernetes.io/dockerconfigjson');
    // Removed before the first step: the DaemonSet, its Secret and its pods are gone (the mesh namespace was redeployed since).
    expect(
      (
        await s!.kube.request<{ items: unknown[] }>({
          path: '/apis/apps/v1/daemonsets',
          query: { labelSelector: 'app.kubernetes.io/name=nsm-upgrade-prepull' },
        })
      ).items,
    ).toEqual([]);
    expect(
      (
        await s!.kube.request<{ items: unknown[] }>({
          path: '/api/v1/pods',
          query: { labelSelector: 'app.kubernetes.io/name=nsm-upgrade-prepull' },
        })
      ).items,
    ).toEqual([]);
    await expectConverged(s!, '2.0.0');
  });
});

describe('image preflight: a Helm install with registry credentials (reference charts), manual upgrade to 2.0.0', () => {
  const charts = referenceChartsDir();
  const meshNs = uniqueName('mesh');
  const apps = [uniqueName('app0')];
  let kube: Kube;
  let before: unknown;
  let ready = false;
  const image = () => `${reg!.mirror}/nginx-mesh-metrics:2.0.0`;
  beforeAll(async () => {
    if (!reg || !reg.images.versions['1.7.0']) return;
    kube = await testKube();
    const env = clusterEnv();
    await execa(env.HELM3!, [
      '--kubeconfig',
      kubeconfigPath(),
      'install',
      'nsm',
      path.join(charts, '1.7.0'),
      '-n',
      meshNs,
      '--create-namespace',
      '--wait',
      '--timeout',
      '3m',
      '--set',
      `registry.server=${reg.mirror}`,
      '--set',
      'registry.disablePublicImages=true',
      '--set',
      `registry.username=${reg.username}`,
      '--set',
      `registry.password=${reg.password}`,
    ]);
    await populate(kube, apps, { optIn: true });
    await waitRolledOut(apps);
    before = await meshState(kube, meshNs);
    ready = true;
  }, 300_000);
  afterAll(async () => {
    if (reg) await registryTool(reg, ['push', image()]);
    if (ready) {
      await removeMesh(kube, meshNs);
      for (const ns of apps)
        await kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
    }
  }, 300_000);
  const args = () => [
    '--to',
    '2.0.0',
    '--strategy',
    'manual',
    '--mesh-namespace',
    meshNs,
    '--helm',
    clusterEnv().HELM3!,
    '--chart',
    charts,
    '--registry-ca',
    reg!.env.NSM_REGISTRY_CA!,
    '--backup-dir',
    path.join('/tmp', uniqueName('nsm-images-helm')),
    '--yes',
    '--timeout',
    '3m',
  ];

  it('refuses (exit 3) while an image is missing, with the image named; nothing changed. Put back, it converges', async (ctx) => {
    ctx.skip(!reg, noRegistry);
    ctx.skip(!ready, `no reference charts at ${charts} (set NSM_REFERENCE_CHARTS)`);
    const appsBefore = await snapshot(kube, apps);
    expect((await registryTool(reg!, ['delete', image()])).exitCode).toBe(0);
    const refused = await runTool(args());
    expect((await registryTool(reg!, ['push', image()])).exitCode).toBe(0);
    await refusedNothingChanged(refused, kube, meshNs, before);
    expect(refused.stderr).toContain(`${image()} (hop 1: Deployment/nginx-mesh-metrics) is not in its registry`);
    expect(refused.stderr).toMatch(/image check: 11 image\(s\) of 1 hop\(s\) in 1 registry/);
    const r = await runTool(args());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await snapshot(kube, apps)).toEqual(appsBefore);
  });
});

describe('image preflight: the check itself', () => {
  it('a registry this machine cannot reach is a warning that the check did not happen (no refusal without --require-images)', async (ctx) => {
    ctx.skip(!reg, noRegistry);
    const deps = await testDeps();
    const down = `127.0.0.1:${await deadPort()}/nsm`;
    const plan = {
      namespace: 'no-such-mesh',
      hops: [
        {
          index: 1,
          to: '2.0.0',
          steps: [],
          method: 'helm',
          images: {
            source: 'test',
            images: [
              { image: `${down}/nginx-mesh-sidecar:2.0.0`, uses: ['injected sidecar'] },
              { image: `${reg!.mirror}/nginx-mesh-init:2.0.0`, uses: ['injected init'] },
            ],
          },
        },
      ],
    } as unknown as Plan;
    const client = createRegistryClient({ ca: [reg!.ca] });
    const install = { values: {} } as never;
    const warned = await checkImages(deps, { plan, install }, { client, require: false });
    expect(warned.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the image check did not happen for 1 image\\(s\\) of ${down.split('/')[0]}: this machine cannot reach it \\(ECONNREFUSED.*the nodes may still reach it`,
        ),
      ),
    ]);
    // The reachable one was still checked (without credentials the test registry refuses it); the other is no refusal.
    expect(warned.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/nginx-mesh-init:2\.0\.0 .*cannot be read: the registry needs credentials \(HTTP 401\)/),
    ]);
    const refused = await checkImages(deps, { plan, install }, { client, require: true });
    expect(refused.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/nginx-mesh-init:2\.0\.0 .*cannot be read: the registry needs credentials \(HTTP 401\)/),
      expect.stringMatching(/the image check did not happen for 1 image/),
    ]);
    client.close();
  });
});

describe("every command tried on its own binary first: the real 2.0.0 upgrade on a 1.7.0 Helm install under nginx-meshctl's release name", () => {
  it('refuses (exit 3) on what the real 2.0.0 `upgrade --dry-run` rejects, run through the write-proof proxy: no CRD written', async (ctx) => {
    ctx.skip(Boolean(missingRealMeshctl()), missingRealMeshctl() ?? '');
    const charts = referenceChartsDir();
    ctx.skip(!reg, noRegistry);
    const kube = await testKube();
    const ns = uniqueName('mesh');
    await execa(clusterEnv().HELM3!, [
      '--kubeconfig',
      kubeconfigPath(),
      'install',
      'nginx-service-mesh',
      path.join(charts, '1.7.0'),
      '-n',
      ns,
      '--create-namespace',
      '--wait',
      '--timeout',
      '3m',
      '--set',
      `registry.server=${reg!.mirror}`,
      '--set',
      'registry.disablePublicImages=true',
      '--set',
      `registry.username=${reg!.username}`,
      '--set',
      `registry.password=${reg!.password}`,
    ]);
    try {
      const before = await meshState(kube, ns);
      const r = await runTool([
        '--to',
        '2.0.0',
        '--mesh-namespace',
        ns,
        '--meshctl',
        meshctlFor('2.0.0').bin,
        '--registry-ca',
        reg!.env.NSM_REGISTRY_CA!,
        '--backup-dir',
        path.join('/tmp', uniqueName('nsm-dry-run')),
        '--yes',
        '--timeout',
        '3m',
      ]);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        /binaries: nginx-meshctl 2\.0\.0 \(.*\) rejects the hop1\.upgrade command in a dry run: (Error: error upgrading NGINX Service Mesh: values don't meet the specifications of the schema|it panicked)/,
      );
      // 2.0.0's upgrade applies its CRDs before it looks at --dry-run: through the proxy they stay as they were.
      expect(await meshState(kube, ns)).toEqual(before);
      expect(
        (
          await kube.request<{ items: unknown[] }>({
            path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
            query: { fieldSelector: 'metadata.name=meshconfigs.nsm.nginx.com' },
          })
        ).items,
      ).toEqual([]);
    } finally {
      await removeMesh(kube, ns);
    }
  });
});
