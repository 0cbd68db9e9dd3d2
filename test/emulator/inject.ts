import type { ControlPlane } from './control-plane.ts';

export const autoInjectLabel = 'injector.nsm.nginx.com/auto-inject';
export const statusAnnotation = 'injector.nsm.nginx.com/status';
export const spiffeLabel = 'spiffe.io/spiffeid';

/** The 1.x runtime injection settings (mesh-config ConfigMap, key mesh-config.json). */
export interface InjectionConfig {
  isAutoInjectEnabled: boolean;
  enabledNamespaces: string[];
  disabledNamespaces: string[];
}

export const defaultInjectionConfig: InjectionConfig = {
  isAutoInjectEnabled: true,
  enabledNamespaces: [],
  disabledNamespaces: [],
};

/** Reads injection settings from mesh-config.json; missing or unreadable fields keep the defaults. */
export function parseMeshConfigJson(text: string | undefined): InjectionConfig {
  if (!text) return defaultInjectionConfig;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return defaultInjectionConfig;
  }
  const inj = (doc.injection ?? {}) as Record<string, unknown>;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.trim() !== '') : undefined;
  const bool = (v: unknown) => (typeof v === 'boolean' ? v : undefined);
  return {
    isAutoInjectEnabled: bool(inj.isAutoInjectEnabled) ?? bool(doc.isAutoInjectEnabled) ?? true,
    enabledNamespaces: strings(inj.enabledNamespaces) ?? strings(doc.enabledNamespaces) ?? [],
    disabledNamespaces: strings(inj.disabledNamespaces) ?? [],
  };
}

/** The settings of a mesh-config ConfigMap: the charts write mesh-config.json as binaryData (base64), a hand-made one may use data. */
export function injectionConfigOf(cm: {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}): InjectionConfig {
  const binary = cm.binaryData?.['mesh-config.json'];
  return parseMeshConfigJson(
    cm.data?.['mesh-config.json'] ?? (binary ? Buffer.from(binary, 'base64').toString('utf8') : undefined),
  );
}

export interface PodLike {
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] };
}

export interface InjectionInput {
  pod: PodLike;
  namespace: string;
  namespaceLabels: Record<string, string>;
  mesh: ControlPlane;
  config: InjectionConfig;
  /** Job names the mesh's charts run (hook Jobs): their pods are never injected. */
  meshJobNames: readonly string[];
}

export interface Decision {
  inject: boolean;
  reason: string;
}

/**
 * Whether NSM injects a sidecar into this pod. The rows are checked in order; the first that
 * applies decides, and its reason is logged.
 */
export function decideInjection(i: InjectionInput): Decision {
  const labels = i.pod.metadata?.labels ?? {};
  const podLabel = labels[autoInjectLabel];
  const nsLabel = i.namespaceLabels[autoInjectLabel];
  const containers = i.pod.spec?.containers ?? [];
  const rows: [boolean, boolean, string][] = [
    [
      i.pod.metadata?.annotations?.[statusAnnotation] === 'injected' ||
        containers.some((c) => c.name === 'nginx-mesh-sidecar'),
      false,
      'already injected',
    ],
    [i.namespace === i.mesh.namespace, false, 'the mesh namespace is never injected'],
    [i.namespace === 'kube-system', false, 'kube-system is never injected'],
    [i.meshJobNames.includes(labels['job-name'] ?? ''), false, 'a Job the mesh runs'],
    [podLabel === 'disabled', false, 'pod opts out with auto-inject=disabled'],
    [
      labels['nsm.nginx.com/enable-ingress'] === 'true' || labels['nsm.nginx.com/enable-egress'] === 'true',
      true,
      'ingress/egress controller pod',
    ],
    [podLabel === 'enabled', true, 'pod opts in with auto-inject=enabled'],
    [nsLabel === 'disabled', false, 'namespace opts out with auto-inject=disabled'],
    [nsLabel === 'enabled', true, 'namespace opts in with auto-inject=enabled'],
    [i.mesh.major >= 2, false, '2.0 injects only where auto-inject=enabled is set'],
    [i.config.disabledNamespaces.includes(i.namespace), false, 'namespace listed in disabledNamespaces'],
    [
      i.config.enabledNamespaces.length > 0,
      i.config.enabledNamespaces.includes(i.namespace),
      'enabledNamespaces limits injection',
    ],
    [!i.config.isAutoInjectEnabled, false, 'auto-injection disabled at install'],
  ];
  for (const [applies, inject, reason] of rows) if (applies) return { inject, reason };
  return { inject: true, reason: '1.x injects by default' };
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** JSON Pointer escaping for a map key (RFC 6901). */
export function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The init container and sidecar NSM adds, with the control plane's version as image tag. */
export function meshContainers(mesh: ControlPlane): {
  init: Record<string, unknown>;
  sidecar: Record<string, unknown>;
} {
  const prefix = mesh.registry ? `${mesh.registry}/` : '';
  return {
    init: {
      name: 'nginx-mesh-init',
      image: `${prefix}nginx-mesh-init:${mesh.version}`,
      securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
    },
    sidecar: {
      name: 'nginx-mesh-sidecar',
      image: `${prefix}nginx-mesh-sidecar:${mesh.version}`,
      ports: [{ name: 'sidecar-metrics', containerPort: 8887 }],
      securityContext: { runAsUser: 2102 },
    },
  };
}

/** The JSONPatch that injects a pod: containers, the status annotation and the SPIFFE label. */
export function buildInjectionPatch(pod: PodLike, mesh: ControlPlane): JsonPatchOp[] {
  const { init, sidecar } = meshContainers(mesh);
  const ops: JsonPatchOp[] = [];
  if (pod.spec?.initContainers?.length) ops.push({ op: 'add', path: '/spec/initContainers/-', value: init });
  else ops.push({ op: 'add', path: '/spec/initContainers', value: [init] });
  ops.push({ op: 'add', path: '/spec/containers/-', value: sidecar });
  const addKey = (field: 'annotations' | 'labels', key: string, value: string) => {
    if (pod.metadata?.[field]) ops.push({ op: 'add', path: `/metadata/${field}/${pointerKey(key)}`, value });
    else ops.push({ op: 'add', path: `/metadata/${field}`, value: { [key]: value } });
  };
  addKey('annotations', statusAnnotation, 'injected');
  addKey('labels', spiffeLabel, 'true');
  return ops;
}
