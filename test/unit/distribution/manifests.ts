/** Reads the YAML files under manifests/ for the distribution tests, and RBAC rule matching. */
import fs from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../../support/cluster.ts';

export const manifestsDir = path.join(repoRoot, 'manifests');

export interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

/** Every document of a file under manifests/ (empty documents dropped). */
export function loadDocs(relPath: string): Doc[] {
  const text = fs.readFileSync(path.join(manifestsDir, relPath), 'utf8');
  return loadAll(text).filter((d): d is Doc => d !== null && typeof d === 'object');
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Does one RBAC rule allow verb on group/resource (any object name)? Same matching as the API server's, minus subresources. */
export function ruleAllows(rule: PolicyRule, verb: string, group: string, resource: string): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).includes(v) || (list ?? []).includes('*');
  return (
    has(rule.verbs, verb) && has(rule.apiGroups, group) && has(rule.resources, resource) && !rule.resourceNames?.length
  );
}

export function rolesAllow(rules: readonly PolicyRule[], verb: string, group: string, resource: string): boolean {
  return rules.some((r) => ruleAllows(r, verb, group, resource));
}
