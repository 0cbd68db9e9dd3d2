/** Small builders for injected pods and their owners, shared by the workload unit tests. */
import type { PodLike } from '../../../src/workloads/injection.ts';

export function pod(
  name: string,
  opts: {
    ns?: string;
    version?: string;
    owner?: [string, string];
    injected?: boolean;
    labels?: Record<string, string>;
    phase?: string;
    deleting?: boolean;
  } = {},
): PodLike {
  return {
    metadata: {
      name,
      namespace: opts.ns ?? 'shop',
      labels: { 'spiffe.io/spiffeid': 'true', ...opts.labels },
      annotations: opts.injected === false ? {} : { 'injector.nsm.nginx.com/status': 'injected' },
      ownerReferences: opts.owner ? [{ kind: opts.owner[0], name: opts.owner[1], controller: true }] : [],
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.27' },
        {
          name: 'nginx-mesh-sidecar',
          image: `docker-registry.nginx.com/nsm/nginx-mesh-sidecar:${opts.version ?? '1.6.0'}`,
        },
      ],
    },
    status: { phase: opts.phase ?? 'Running' },
  };
}

export function owned(kind: string, name: string, ns: string, owner?: [string, string]) {
  return {
    kind,
    metadata: {
      name,
      namespace: ns,
      ownerReferences: owner ? [{ kind: owner[0], name: owner[1], controller: true }] : [],
    },
  };
}
