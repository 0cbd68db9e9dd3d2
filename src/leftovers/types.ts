/**
 * The leftovers' types: what a scan reads (LeftoverScan), where it looks (ScanContext) and what it
 * finds (Leftover), shared by the classification (leftovers.ts, namespaces.ts), the scan (scan.ts)
 * and the clearing (clear.ts).
 */
import type { Command } from '../exec/runner.ts';
import type { KubeObject } from '../kube/client.ts';
import type { MeshRef } from './mesh-ownership.ts';

export type LeftoverKind =
  'webhook' | 'crd-unlabelled' | 'apiservice' | 'spire-pvc' | 'sentinel-job' | 'terminating-namespace';

export interface Leftover {
  kind: LeftoverKind;
  /** "ValidatingWebhookConfiguration x.nsm.nginx", "namespace old-mesh (Terminating)". */
  what: string;
  name: string;
  namespace?: string;
  /** metadata.uid when found: a step clears only the very object the approved plan listed. */
  uid?: string | undefined;
  /** Webhooks: which of the two kinds. */
  resource?: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations';
  /** Terminating namespaces: objects whose finalizers hold the deletion (API path, finalizers). */
  holders?: Holder[];
  /** What it breaks, for the user. */
  breaks: string;
  /** The command that clears it by hand (shown only; the tool clears through the API). */
  clear: Pick<Command, 'bin' | 'args'>;
  /** Set when it is not provably the mesh's (why): the tool never clears it, and the run refuses while it is there. */
  foreign?: string;
}

export interface NamespaceObj extends KubeObject {
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** An object whose finalizers hold a terminating namespace. */
export interface Holder {
  path: string;
  name: string;
  uid?: string | undefined;
  resource: string;
  finalizers: string[];
}

/** Pure: is a terminating namespace's deletion stuck (not merely in progress)? Returns why, or undefined. */
export type ScanPhase = 'preflight' | 'before-deploy';

export interface WebhookConfig extends KubeObject {
  webhooks?: {
    name?: string;
    failurePolicy?: string;
    clientConfig?: { service?: { namespace?: string; name?: string } };
    rules?: { operations?: string[]; resources?: string[] }[];
  }[];
}
export interface ApiService extends KubeObject {
  spec?: { group?: string; version?: string; service?: { namespace?: string; name?: string } | null };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** What the scan read; everything the classification needs, no I/O. */
export interface LeftoverScan {
  webhooks: { resource: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations'; obj: WebhookConfig }[];
  /** Services that exist, "ns/name" (only those the webhooks and APIServices name were looked up). */
  services: ReadonlySet<string>;
  /** The mesh CRDs that exist (by meshCrdNames). */
  crds: KubeObject[];
  apiServices: ApiService[];
  /** PVCs and StatefulSets of the mesh namespace. */
  pvcs: KubeObject[];
  statefulsets: (KubeObject & { spec?: { volumeClaimTemplates?: { metadata?: { name?: string } }[] } })[];
  /** Jobs named csi-driver-sentinel, any namespace. */
  sentinels: KubeObject[];
  /**
   * Terminating namespaces that held a mesh (or are the plan's): the finalizer holders found in
   * them, the mesh-chart Helm releases still in them ("ns/name (status)") and mesh objects ("configmaps/x").
   */
  terminating: { ns: NamespaceObj; holders: Holder[]; releases?: string[]; objects?: string[] }[];
}

export interface ScanContext extends MeshRef {
  /** The mesh namespace of the plan (and its Helm release, when known: Helm's ownership of it is evidence too). */
  namespace: string;
  phase: ScanPhase;
}
