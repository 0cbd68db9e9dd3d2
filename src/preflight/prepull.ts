/**
 * --prepull: before the first destructive step, every node pulls the target's control-plane and
 * sidecar images (hook Jobs' left out: they run once, at install and removal), so a node that cannot
 * pull is found while the old mesh still runs (cilium's answer to the same outage).
 *
 * A DaemonSet `nsm-upgrade-prepull` in the mesh namespace (one container per image, every node,
 * every taint tolerated, linux nodes only, with a pull secret of the install's registry credentials
 * when it has any) is watched until each pod's containers are past their pull; a pull error on any node
 * (ErrImagePull, ImagePullBackOff, ...) refuses the run (exit 3) naming the node and the image. The
 * DaemonSet and its Secret are deleted whatever happens, and waited for until their pods are gone.
 */
import type { Deps } from '../deps.ts';
import { PreflightError } from '../errors.ts';
import { planImages } from '../images/hop-images.ts';
import { imageRole } from '../images/manifest-images.ts';
import { hopCredential } from '../images/credentials.ts';
import type { Install, Plan } from '../engine/types.ts';
import { notYet, ready, waitFor } from '../wait.ts';

export const prepullName = 'nsm-upgrade-prepull';
const labels = { 'app.kubernetes.io/name': prepullName, 'app.kubernetes.io/managed-by': 'nsm-upgrade' };
const pullErrors = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);

interface ContainerStatus {
  name: string;
  image: string;
  state?: { waiting?: { reason?: string; message?: string }; running?: unknown; terminated?: unknown };
}
interface PodView {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { containerStatuses?: ContainerStatus[] };
}

/** Pure: the images to pull: every hop's control-plane and injected images, once each, sorted. */
export function prepullImages(
  lists: readonly ({ images: { image: string; uses: string[] }[] } | undefined)[],
): string[] {
  return [
    ...new Set(lists.flatMap((l) => (l?.images ?? []).filter((u) => imageRole(u) !== 'hook').map((u) => u.image))),
  ].sort();
}

/** Pure: the DaemonSet (and the name of its pull secret, when there is one). */
export function prepullDaemonSet(
  namespace: string,
  images: readonly string[],
  pullSecret: string | undefined,
): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: prepullName, namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ operator: 'Exists' }],
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
          // Whether the image can start its command does not matter: only that the kubelet got past its pull.
          containers: images.map((image, i) => ({
            name: `image-${i}`,
            image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '86400'],
            resources: { requests: { cpu: '1m', memory: '4Mi' } },
          })),
        },
      },
    },
  };
}

/** Pure: per pod, the images its node failed to pull, and whether all its images are pulled. */
export function pullState(
  pod: PodView,
  images: readonly string[],
): { node: string; failed: { image: string; reason: string }[]; done: boolean } {
  const statuses = pod.status?.containerStatuses ?? [];
  const failed = statuses
    .filter((c) => pullErrors.has(c.state?.waiting?.reason ?? ''))
    .map((c) => ({
      image: c.image,
      reason: `${c.state!.waiting!.reason}${c.state!.waiting!.message ? `: ${c.state!.waiting!.message}` : ''}`,
    }));
  const pulled = statuses.filter(
    (c) =>
      c.state?.running ||
      c.state?.terminated ||
      (c.state?.waiting?.reason &&
        !pullErrors.has(c.state.waiting.reason) &&
        c.state.waiting.reason !== 'ContainerCreating' &&
        c.state.waiting.reason !== 'PodInitializing'),
  );
  return {
    node: pod.spec?.nodeName ?? '?',
    failed,
    done: statuses.length === images.length && pulled.length === images.length,
  };
}

/** Runs the pre-pull; resolves with what it did, or throws PreflightError naming each node and image that failed. */
export async function prepull(
  deps: Pick<Deps, 'kube' | 'exec' | 'fs' | 'clock'>,
  input: {
    plan: Plan;
    install: Install;
    timeoutMs: number;
    progress: (line: string) => void;
    signal?: AbortSignal | undefined;
  },
): Promise<string> {
  const { plan, install } = input;
  const ns = plan.namespace;
  const lists = plan.hops.every((h) => h.images)
    ? plan.hops.map((h) => h.images)
    : await planImages(deps, plan, install);
  const images = prepullImages(lists);
  if (!images.length) return 'no images to pull';
  const cred = plan.hops.map((h) => hopCredential(h, install)).find(Boolean);
  const secretName = cred ? `${prepullName}-pull-secret` : undefined;
  const dsPath = `/apis/apps/v1/namespaces/${ns}/daemonsets`;
  const podsQuery = { labelSelector: `app.kubernetes.io/name=${prepullName}` };
  const cleanup = async () => {
    await deps.kube
      .request({ method: 'DELETE', path: `${dsPath}/${prepullName}`, body: { propagationPolicy: 'Background' } })
      .catch(() => undefined);
    if (secretName)
      await deps.kube
        .request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/secrets/${secretName}` })
        .catch(() => undefined);
    // Best effort, up to a minute: its pods going is not worth failing the run for.
    await waitFor(
      { clock: deps.clock, timeoutMs: 60_000, intervalMs: 500, what: 'the pre-pull pods to be gone' },
      async () => {
        const left = await deps.kube
          .request<{ items: unknown[] }>({ path: `/api/v1/namespaces/${ns}/pods`, query: podsQuery })
          .catch(() => ({ items: [] }));
        return left.items.length ? notYet(`${left.items.length} pod(s)`) : ready(undefined);
      },
    ).catch(() => undefined);
  };
  await cleanup(); // what a killed run left
  try {
    if (cred && secretName) {
      const auth = Buffer.from(`${cred.cred.username}:${cred.cred.password.reveal()}`).toString('base64');
      await deps.kube.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/dockerconfigjson',
          metadata: { name: secretName, namespace: ns, labels },
          data: {
            '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [cred.key]: { auth } } })).toString('base64'),
          },
        },
      });
    }
    await deps.kube.request({ method: 'POST', path: dsPath, body: prepullDaemonSet(ns, images, secretName) });
    return await waitFor<string, string[]>(
      {
        clock: deps.clock,
        timeoutMs: input.timeoutMs,
        intervalMs: 1000,
        signal: input.signal,
        what: 'the images to be pulled on every node',
        timeoutError: (waiting) =>
          new PreflightError([
            {
              check: 'images',
              message: `the images were not pulled in time on ${waiting.length ? `node(s) ${waiting.join(', ')}` : 'any node (no pre-pull pod was scheduled)'}`,
              fix: 'find out why (kubectl describe pods -l app.kubernetes.io/name=nsm-upgrade-prepull), or pass a longer --timeout',
            },
          ]),
      },
      async () => {
        if (input.signal?.aborted) throw new Error('interrupted while pre-pulling the images');
        const ds = await deps.kube.request<{ status?: { desiredNumberScheduled?: number } }>({
          path: `${dsPath}/${prepullName}`,
        });
        const pods = (
          await deps.kube.request<{ items: PodView[] }>({ path: `/api/v1/namespaces/${ns}/pods`, query: podsQuery })
        ).items.filter((p) => !p.metadata?.deletionTimestamp);
        const states = pods.map((p) => pullState(p, images));
        const failed = states.flatMap((s) => s.failed.map((f) => ({ node: s.node, ...f })));
        if (failed.length) {
          throw new PreflightError(
            failed.map((f) => ({
              check: 'images',
              message: `node ${f.node} cannot pull ${f.image} (${f.reason})`,
              fix: `make the image pullable from that node (the registry, its credentials in the install's pull secret, the node's network or CA), then run again; nothing was changed`,
            })),
          );
        }
        const want = ds.status?.desiredNumberScheduled ?? 0;
        const done = states.filter((s) => s.done).length;
        // Told at every check, the last one too: how far the nodes are.
        input.progress(`${done}/${want} node(s) have all ${images.length} image(s)`);
        if (want > 0 && done >= want)
          return ready(`${images.length} image(s) pulled on ${want} node(s): ${images.join(', ')}`);
        return notYet(states.filter((s) => !s.done).map((s) => s.node));
      },
    );
  } finally {
    await cleanup();
  }
}
