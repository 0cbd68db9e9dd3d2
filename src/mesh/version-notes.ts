/**
 * What changes at which NSM release, as data with the reason beside each row. The planner
 * turns the notes of every hop into warnings, forced strategies and restore transforms.
 *
 * Source: nsm-reference/FACTS.md ("Releases and upgrade rules") and the release notes.
 */
import { compareVersions } from '../version-compare.ts';
import { crosses } from './versions.ts';

export type Environment = 'kubernetes' | 'openshift';

/**
 * How a note affects an upgrade:
 * - warn: the user must know (the planner lists what this install has that is affected);
 * - manual: the hop must use the manual path (remove, then deploy); in-place is refused;
 * - transform: restore converts backed-up objects (backup/transforms.ts does it);
 * - info: something renamed or moved; nothing to do for the upgrade itself.
 */
export type NoteEffect = 'warn' | 'manual' | 'transform' | 'info';

export interface VersionNote {
  /** Stable id, used in plan warnings and tests. */
  id: string;
  /** The release that introduces the change: the note applies to hops with from < at <= to. */
  at: string;
  /** Only on this environment (all when absent). */
  environment?: Environment;
  effect: NoteEffect;
  /** What the user reads. */
  message: string;
  /** Why this is so (release notes / FACTS.md). */
  reason: string;
}

export const versionNotes: readonly VersionNote[] = [
  {
    id: 'bundled-observability-removed',
    at: '1.5.0',
    effect: 'warn',
    message:
      '1.5 removes the bundled Prometheus, Grafana and Jaeger/Zipkin: point dashboards and --prometheus-address at your own deployments',
    reason: 'NSM 1.5 stopped shipping observability backends; the upgrade from 1.4 deletes them',
  },
  {
    id: 'httproutegroup-headers-object',
    at: '1.5.0',
    effect: 'transform',
    message:
      'HTTPRouteGroup spec.matches[].headers changed from a list to an object: backed-up route groups are converted on restore',
    reason: 'the 1.5 CRD schema changed the headers field; objects written for 1.4 are rejected by 1.5',
  },
  {
    id: 'tracing-dropped',
    at: '1.7.0',
    effect: 'warn',
    message:
      '1.7 deprecates the OpenTracing settings (kept on 1.7: its nginx-meshctl still accepts the hidden --tracing-backend, --tracing-address, --sample-rate); 2.0 removes them: configure telemetry (OTLP exporter) instead',
    reason:
      'NSM 1.7 deprecated OpenTracing (Jaeger/Zipkin/Datadog) in favour of OpenTelemetry (1.7.0 commands/deploy.go MarkDeprecated; its chart keeps tracing)',
  },
  {
    id: 'openshift-csi-renamed',
    at: '1.7.0',
    environment: 'openshift',
    effect: 'manual',
    message:
      'on OpenShift the 1.6 -> 1.7 upgrade must be manual: the CSI driver was renamed wlapi-mounter.spire.nginx.com -> csi.spiffe.io',
    reason:
      'an in-place upgrade leaves pods mounting volumes from a driver that no longer exists (NSM 1.7 upgrade docs)',
  },
  {
    id: 'auto-injection-opt-in',
    at: '2.0.0',
    effect: 'warn',
    message:
      '2.0 turns automatic sidecar injection opt-in: namespaces need injector.nsm.nginx.com/auto-inject=enabled BEFORE the upgrade, or their workloads lose their sidecars on the next restart',
    reason: 'NSM 2.0 changed the injector default from opt-out to opt-in',
  },
  {
    id: 'meshconfig-crd',
    at: '2.0.0',
    effect: 'info',
    message:
      '2.0 moves the runtime mesh configuration from the mesh-config ConfigMap to the MeshConfig nginx-mesh-config (backed up and restored by the tool)',
    reason: 'NSM 2.0 replaced the nginx-mesh-api config API with the MeshConfig CRD',
  },
  {
    id: 'mesh-api-renamed',
    at: '2.0.0',
    effect: 'info',
    message:
      '2.0 renames the nginx-mesh-api Deployment to nginx-mesh-controller: update monitoring and scripts that name it',
    reason: 'NSM 2.0 control-plane rename',
  },
  {
    id: 'deploy-flags-removed',
    at: '2.0.0',
    effect: 'warn',
    message:
      '2.0 removes disableAutoInjection, enabledNamespaces and the OpenTracing settings (deploy flags --disable-auto-inject, --enabled-namespaces, --tracing-*)',
    reason: 'NSM 2.0 chart values and nginx-meshctl deploy flags no longer have them',
  },
];

/** The notes that apply to one hop in one environment, in table order. */
export function notesForHop(hop: { from: string; to: string }, environment: Environment): VersionNote[] {
  return versionNotes.filter(
    (n) => crosses(hop, n.at) && (n.environment === undefined || n.environment === environment),
  );
}

/** The control plane's main Deployment, whose image tag is the installed version. */
export function controlPlaneDeployment(version: string): 'nginx-mesh-api' | 'nginx-mesh-controller' {
  return compareVersions(version, '2.0.0') >= 0 ? 'nginx-mesh-controller' : 'nginx-mesh-api';
}

/** Both names, tried in order by detection (the newer first: a half-done 2.0 upgrade has both). */
export const controlPlaneDeployments = ['nginx-mesh-controller', 'nginx-mesh-api'] as const;

/** The injection opt-in label 2.0 requires on namespaces (and honours on pods): the one definition of it. */
export const autoInjectLabel = { key: 'injector.nsm.nginx.com/auto-inject', enabled: 'enabled' } as const;

/** Tracing values (1.x chart) that 1.7 deprecates and 2.0 removes, as dotted paths. */
export const legacyTracingPaths = ['tracing.address', 'tracing.backend', 'tracing.sampleRate'] as const;
