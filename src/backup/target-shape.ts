/**
 * A backed-up object in the shape the target stores it, the one place restore and compare agree
 * on: the version transforms (transforms.ts), then, when the target's CRDs are known
 * (schema-check.ts), the version the target serves (an object whose version it no longer serves is
 * converted to its storage version) and, when the user accepted the losses the preflight listed
 * (--accept-pruning), the fields the target's schema does not declare dropped (the restore creates
 * with fieldValidation=Strict, which would refuse them). Pure.
 */
import type { KubeObject } from '../kube/client.ts';
import type { CrdData } from '../mesh/crd-schemas.ts';
import { checkObject } from './schema-check.ts';
import { transformForRestore, type TransformContext } from './transforms.ts';

export interface TargetSchema {
  crds: readonly CrdData[];
  /** Drop the fields the target's schema does not declare (the user accepted the loss). */
  acceptPruning: boolean;
}

export interface Shaped {
  obj: KubeObject;
  transforms: string[];
  /** "v1alpha1 -> v1alpha2" when converted to a version the target serves. */
  converted?: string;
  /** The fields dropped (accepted losses). */
  pruned?: string[];
}

export function shapeForTarget(o: KubeObject, versions: TransformContext, schema: TargetSchema | undefined): Shaped {
  const t = transformForRestore(o, versions);
  if (!schema) return { obj: t.obj, transforms: t.applied };
  const c = checkObject(t.obj, schema.crds);
  if (c.verdict === 'rejected' && c.rejected[0]?.path === 'apiVersion') return { obj: t.obj, transforms: t.applied };
  const obj = c.verdict === 'pruned' && schema.acceptPruning ? c.result : { ...t.obj, apiVersion: c.writtenAs };
  return {
    obj,
    transforms: t.applied,
    ...(c.converted ? { converted: `${c.converted.from} -> ${c.converted.to}` } : {}),
    ...(c.verdict === 'pruned' && schema.acceptPruning ? { pruned: c.pruned } : {}),
  };
}

/** The version part of an apiVersion ("specs.smi.nginx.com/v1alpha2" -> "v1alpha2"). */
export const versionOf = (apiVersion: string | undefined): string =>
  (apiVersion ?? '').slice((apiVersion ?? '').indexOf('/') + 1);
