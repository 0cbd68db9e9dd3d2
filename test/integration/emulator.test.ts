/**
 * The mesh emulator against the real local API server: a fake 1.x control plane in its own
 * namespace behind Service nginx-mesh-webhook, webhook configurations registered with a Service
 * clientConfig as the charts do (the API server reaches the pod through its egress proxy, which the
 * emulator serves), then injection, version changes, policy validation and the CSI sentinel. Every webhook here is
 * scoped by namespaceSelector to this test's namespaces so other tests' pods are never affected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube, KubeList } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { testKube, uniqueName } from '../support/cluster.ts';
import { eventually, stopEmulator, useEmulator, type EmulatorUnderTest } from './emulator-harness.ts';

const id = uniqueName('emu');
const meshNs = `${id}-mesh`;
const appNs = `${id}-app`;
const scopeLabel = { 'nsm-upgrade.test/emulator': id };
const group = `${id}.emulator.test`;
const partOf = { 'app.kubernetes.io/part-of': 'nginx-service-mesh' };
// The test's webhook configurations: managed like the mesh's, by this test's emulator only.
const configLabels = { 'nsm-upgrade.test/mesh-webhooks': 'true', ...scopeLabel };
const admission = '/apis/admissionregistration.k8s.io/v1';
// Mutating configurations are called in name order: "a-" runs before any chart's injector.
const mutatingName = `a-${id}-injector`;
const validatingName = `a-${id}-validator`;

let kube: Kube;
let emu: EmulatorUnderTest;

interface Pod {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { containers: { name: string; image: string }[]; initContainers?: { name: string; image: string }[] };
}

const controlPlane = (tag: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'nginx-mesh-api',
    labels: { ...partOf, ...scopeLabel, 'app.kubernetes.io/name': 'nginx-mesh-api' },
  },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'nginx-mesh-api' } },
    template: {
      metadata: { labels: { app: 'nginx-mesh-api', ...partOf } },
      spec: {
        containers: [{ name: 'nginx-mesh-api', image: `docker-registry.nginx.com/nsm/nginx-mesh-api:${tag}` }],
        tolerations: [{ operator: 'Exists' }],
      },
    },
  },
});

const webhookBase = (path: string) => ({
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  failurePolicy: 'Fail',
  clientConfig: { service: { name: 'nginx-mesh-webhook', namespace: meshNs, path } },
  // As the charts do: never the mesh's own namespace (its pods must start while the mesh is not ready).
  namespaceSelector: {
    matchLabels: scopeLabel,
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', meshNs] }],
  },
});

async function createPod(name: string, labels: Record<string, string> = {}): Promise<Pod> {
  const body = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1.27' }],
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 0,
    },
  };
  return kube.request<Pod>({ method: 'POST', path: collectionPath(core.pods, appNs), body, noRetry: true });
}

const sidecarImage = (p: Pod) => p.spec.containers.find((c) => c.name === 'nginx-mesh-sidecar')?.image;

beforeAll(async () => {
  kube = await testKube();
  emu = await useEmulator(scopeLabel);
  for (const [name, labels] of [
    [meshNs, scopeLabel],
    [appNs, { ...scopeLabel, 'injector.nsm.nginx.com/auto-inject': 'enabled' }],
  ] as const) {
    await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name, labels } } });
  }
  await kube.request({ method: 'POST', path: collectionPath(core.deployments, meshNs), body: controlPlane('1.6.0') });
  await kube.request({
    method: 'POST',
    path: `/api/v1/namespaces/${meshNs}/services`,
    body: {
      metadata: { name: 'nginx-mesh-webhook', labels: partOf },
      spec: {
        selector: { app: 'nginx-mesh-api' },
        ports: [{ name: 'admission', port: 443, targetPort: 9443, protocol: 'TCP' }],
      },
    },
  });
  await kube.request({
    method: 'POST',
    path: `${admission}/mutatingwebhookconfigurations`,
    body: {
      metadata: { name: mutatingName, labels: configLabels },
      webhooks: [
        {
          name: 'nginx-mesh-api.sidecar.injector',
          ...webhookBase('/inject'),
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        },
      ],
    },
  });
  await kube.request({
    method: 'POST',
    path: `${admission}/validatingwebhookconfigurations`,
    body: {
      metadata: { name: validatingName, labels: configLabels },
      webhooks: [
        {
          name: 'nginx-mesh-api.policy.validator',
          ...webhookBase('/validate'),
          rules: [
            {
              apiGroups: [group],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE', 'DELETE'],
              resources: ['trafficsplits'],
            },
          ],
        },
      ],
    },
  });
  // A TrafficSplit kind in a group of this test's own, so no shared SMI CRD is touched.
  await kube.request({
    method: 'POST',
    path: collectionPath(core.crds),
    body: {
      metadata: { name: `trafficsplits.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: {
          plural: 'trafficsplits',
          singular: 'trafficsplit',
          kind: 'TrafficSplit',
          listKind: 'TrafficSplitList',
        },
        versions: [
          {
            name: 'v1alpha3',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    },
  });
});

afterAll(async () => {
  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
  if (kube) {
    await quiet(kube.request({ method: 'DELETE', path: `${admission}/mutatingwebhookconfigurations/${mutatingName}` }));
    await quiet(
      kube.request({ method: 'DELETE', path: `${admission}/validatingwebhookconfigurations/${validatingName}` }),
    );
    await quiet(kube.request({ method: 'DELETE', path: objectPath(core.crds, `trafficsplits.${group}`) }));
    for (const ns of [appNs, meshNs])
      await quiet(kube.request({ method: 'DELETE', path: objectPath(core.namespaces, ns) }));
  }
  if (emu?.own) expect(await stopEmulator(emu)).toBe(0);
});

describe('mesh emulator', () => {
  it("patches its CA into each Service webhook, keeping the chart's service reference and failurePolicy", async () => {
    const caBundle = Buffer.from(emu.caPem).toString('base64');
    for (const [plural, name, path] of [
      ['mutatingwebhookconfigurations', mutatingName, '/inject'],
      ['validatingwebhookconfigurations', validatingName, '/validate'],
    ]) {
      const hook = await eventually(`${name} given a caBundle`, async () => {
        const cfg = await kube.request<{
          webhooks: {
            name: string;
            clientConfig: { url?: string; caBundle?: string; service?: unknown };
            failurePolicy: string;
          }[];
        }>({ path: `${admission}/${plural}/${name}` });
        return cfg.webhooks[0]?.clientConfig.caBundle ? cfg.webhooks : undefined;
      });
      expect(hook.length).toBe(1);
      expect(hook[0]!.clientConfig).toEqual({
        service: { name: 'nginx-mesh-webhook', namespace: meshNs, path, port: 443 },
        caBundle,
      });
      expect(hook[0]!.failurePolicy).toBe('Fail');
    }
  });

  it('injects a pod created in a labelled namespace with the control plane version 1.6.0', async () => {
    const pod = await eventually('an injected pod', async () => createPod('web-1'), 30_000);
    expect(sidecarImage(pod)).toBe('docker-registry.nginx.com/nsm/nginx-mesh-sidecar:1.6.0');
    expect(pod.spec.initContainers?.map((c) => c.name)).toEqual(['nginx-mesh-init']);
    expect(pod.metadata.annotations?.['injector.nsm.nginx.com/status']).toBe('injected');
    expect(pod.metadata.labels?.['spiffe.io/spiffeid']).toBe('true');
  });

  it('leaves a pod that opts out alone', async () => {
    const pod = await createPod('opted-out', { 'injector.nsm.nginx.com/auto-inject': 'disabled' });
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(pod.metadata.annotations?.['injector.nsm.nginx.com/status']).toBeUndefined();
  });

  it('injects new pods with 1.7.0 once the control plane Deployment runs 1.7.0', async () => {
    await kube.request({
      method: 'PATCH',
      path: objectPath(core.deployments, 'nginx-mesh-api', meshNs),
      contentType: 'application/json-patch+json',
      body: [
        {
          op: 'replace',
          path: '/spec/template/spec/containers/0/image',
          value: 'docker-registry.nginx.com/nsm/nginx-mesh-api:1.7.0',
        },
      ],
    });
    let n = 0;
    const pod = await eventually(
      'a pod injected with 1.7.0',
      async () => {
        const p = await createPod(`web-2-${n++}`);
        return sidecarImage(p)?.endsWith(':1.7.0') ? p : undefined;
      },
      30_000,
    );
    expect(sidecarImage(pod)).toBe('docker-registry.nginx.com/nsm/nginx-mesh-sidecar:1.7.0');
  });

  it('refuses pod creates while the control plane has no ready pod, like a mesh that is down', async () => {
    const scale = (replicas: number) =>
      kube.request({
        method: 'PATCH',
        path: objectPath(core.deployments, 'nginx-mesh-api', meshNs),
        body: { spec: { replicas } },
      });
    await scale(0);
    let n = 0;
    const refusal = await eventually('a refused pod create', async () =>
      createPod(`down-${n++}`).then(
        () => undefined,
        (e: unknown) => e as KubeApiError,
      ),
    );
    // As with a real mesh: while the pod goes, the injector says it is not ready; once it is gone there is no
    // endpoint, the API server cannot call the webhook, and failurePolicy Fail refuses.
    expect(refusal.message).toMatch(
      /"nginx-mesh-api\.sidecar\.injector".*(NGINX Service Mesh is not ready: nginx-mesh-api|no endpoints available for service "nginx-mesh-webhook")/,
    );
    await scale(1);
    const pod = await eventually('the mesh back up', async () => createPod(`up-${n++}`).catch(() => undefined));
    expect(sidecarImage(pod)).toMatch(/nginx-mesh-sidecar:1\.7\.0$/);
  });

  it('validates policies: an invalid TrafficSplit is refused with the reason, a valid one is created', async () => {
    const path = `/apis/${group}/v1alpha3/namespaces/${appNs}/trafficsplits`;
    const split = (name: string, spec: object) => ({
      apiVersion: `${group}/v1alpha3`,
      kind: 'TrafficSplit',
      metadata: { name },
      spec,
    });
    await eventually(
      'the TrafficSplit CRD to be served',
      async () => (await kube.request<KubeList>({ path })).items !== undefined,
    );
    // Until the restarted control-plane pod is an endpoint again, the API server cannot reach the validator.
    const refused = await eventually('the validator to answer', async () =>
      kube.request({ method: 'POST', path, body: split('bad', { backends: [] }), noRetry: true }).then(
        () => undefined,
        (e: unknown) => (/no endpoints available|failed calling webhook/.test(String(e)) ? undefined : e),
      ),
    );
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).message).toContain('spec.service is required');
    const ok = await kube.request<{ metadata: { name: string } }>({
      method: 'POST',
      path,
      body: split('good', { service: 'web', backends: [{ service: 'web-v1', weight: 100 }] }),
    });
    expect(ok.metadata.name).toBe('good');
  });

  it('csi-driver-cleanup hands over to the sentinel from its ConfigMap while injected pods remain', async () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'spiffe-csi-driver', labels: partOf },
      spec: {
        selector: { matchLabels: { app: 'csi' } },
        template: {
          metadata: { labels: { app: 'csi' } },
          spec: { containers: [{ name: 'csi', image: 'csi:1' }], tolerations: [{ operator: 'Exists' }] },
        },
      },
    };
    await kube.request({ method: 'POST', path: collectionPath(core.daemonsets, meshNs), body: ds });
    const deletes =
      'kubectl delete daemonset spiffe-csi-driver --ignore-not-found\nkubectl delete serviceaccount csi-driver-sentinel --ignore-not-found\n';
    const sentinelYaml = [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: csi-driver-sentinel\n',
      `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: csi-driver-sentinel\nspec:\n  ttlSecondsAfterFinished: 0\n  template:\n    spec:\n      restartPolicy: Never\n      tolerations: [{operator: Exists}]\n      containers:\n      - name: csi-driver-sentinel\n        image: kubectl:1\n        command: ["/bin/sh", "-c", ${JSON.stringify(`while [ "$(kubectl get pods -A | grep -c injected)" -gt 0 ]; do sleep 5; done\n${deletes}`)}]\n`,
    ].join('---\n');
    await kube.request({
      method: 'POST',
      path: collectionPath(core.configmaps, meshNs),
      body: { metadata: { name: 'csi-driver-cleanup', labels: partOf }, data: { 'sentinel.yaml': sentinelYaml } },
    });
    const cleanupScript = `if [ "$(kubectl get pods -A | grep -c injected)" -eq 0 ]; then\n${deletes}else\n  kubectl create -f /tmp/config/sentinel.yaml\nfi\n`;
    await kube.request({
      method: 'POST',
      path: collectionPath(core.jobs, meshNs),
      body: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'csi-driver-cleanup', labels: partOf },
        spec: {
          template: {
            spec: {
              restartPolicy: 'Never',
              tolerations: [{ operator: 'Exists' }],
              containers: [
                {
                  name: 'csi-driver-cleanup',
                  image: 'kubectl:1',
                  command: ['/bin/sh', '-c', cleanupScript],
                  volumeMounts: [{ name: 'sentinel', mountPath: '/tmp/config' }],
                },
              ],
              volumes: [{ name: 'sentinel', configMap: { name: 'csi-driver-cleanup' } }],
            },
          },
        },
      },
    });
    await eventually(
      'csi-driver-cleanup to complete',
      async () =>
        (
          await kube.request<{ status?: { succeeded?: number } }>({
            path: objectPath(core.jobs, 'csi-driver-cleanup', meshNs),
          })
        ).status?.succeeded === 1,
    );
    const sentinel = await kube.request<{ spec: { ttlSecondsAfterFinished?: number } }>({
      path: objectPath(core.jobs, 'csi-driver-sentinel', meshNs),
    });
    expect(sentinel.spec.ttlSecondsAfterFinished).toBe(0);
    await kube.request({ path: objectPath(core.daemonsets, 'spiffe-csi-driver', meshNs) });
  });

  it('completes the csi-driver-sentinel Job only after the injected pods are gone', async (ctx) => {
    const podsOfJob = async () =>
      (
        await kube.request<KubeList<{ status?: { phase?: string } }>>({
          path: collectionPath(core.pods, meshNs),
          query: { labelSelector: 'job-name=csi-driver-sentinel' },
        })
      ).items;
    await eventually('the sentinel pod Running', async () =>
      (await podsOfJob()).some((p) => p.status?.phase === 'Running'),
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect((await podsOfJob()).map((p) => p.status?.phase)).toEqual(['Running']);
    await kube.request({ path: objectPath(core.jobs, 'csi-driver-sentinel', meshNs) });

    await kube.request({ method: 'DELETE', path: collectionPath(core.pods, appNs), query: { gracePeriodSeconds: 0 } });
    await eventually(
      "this test's pods gone",
      async () => (await kube.request<KubeList>({ path: collectionPath(core.pods, appNs) })).items.length === 0,
    );
    const injectedElsewhere = async () =>
      (
        await kube.request<KubeList<{ metadata: { namespace: string; annotations?: Record<string, string> } }>>({
          path: collectionPath(core.pods),
        })
      ).items
        .filter((p) => p.metadata.annotations?.['injector.nsm.nginx.com/status'] === 'injected')
        .map((p) => p.metadata.namespace);
    const others = await injectedElsewhere().then(async (o) =>
      o.length
        ? eventually(
            "other tests' injected pods gone",
            async () => ((await injectedElsewhere()).length ? undefined : []),
            60_000,
          ).catch(() => o)
        : o,
    );
    ctx.skip(
      others.length > 0,
      `injected pods of other tests remain in ${[...new Set(others)].join(', ')}; the sentinel rightly waits for the whole cluster`,
    );

    await eventually(
      'the sentinel Job deleted by its TTL',
      async () =>
        kube.request({ path: objectPath(core.jobs, 'csi-driver-sentinel', meshNs) }).then(
          () => false,
          (e: unknown) => e instanceof KubeApiError && e.status === 404,
        ),
      60_000,
    );
    await eventually(
      'the CSI DaemonSet deleted',
      async () =>
        kube.request({ path: objectPath(core.daemonsets, 'spiffe-csi-driver', meshNs) }).then(
          () => false,
          (e: unknown) => e instanceof KubeApiError && e.status === 404,
        ),
      30_000,
    );
  });
});
