import { describe, expect, it } from 'vitest';
import { catalog } from '../../../src/mesh/catalog.ts';
import { stepPermissions } from '../../../src/preflight/permissions.ts';
import { leaseNamespace } from '../../../src/engine/lease.ts';
import { loadDocs, rolesAllow, type Doc, type PolicyRule } from './manifests.ts';

const roles = loadDocs('rbac/clusterrole.yaml');
const bindings = loadDocs('rbac/serviceaccount.yaml');
const role = (name: string) =>
  roles.find((d) => d.kind === 'ClusterRole' && d.metadata.name === name) as
    (Doc & { rules: PolicyRule[] }) | undefined;
const main = role('nsm-upgrade');
const lease = role('nsm-upgrade-lease');

describe('manifests/rbac', () => {
  it('defines the tool role and the lease role', () => {
    expect(main?.rules.length).toBeGreaterThan(0);
    expect(lease?.rules.length).toBeGreaterThan(0);
  });

  // Every row of the preflight's table, by step kind, so a new row cannot be forgotten here.
  for (const [kind, perms] of Object.entries(stepPermissions)) {
    it(`grants everything the "${kind}" steps need (src/preflight/permissions.ts)`, () => {
      const missing = perms.filter((p) => !rolesAllow(main!.rules, p.verb, p.group, p.resource));
      expect(missing.map((p) => `${p.verb} ${p.resource}.${p.group} (${p.why})`)).toEqual([]);
    });
  }

  it('grants list/get/create/update on every catalog kind (backup, restore, --on-conflict overwrite)', () => {
    for (const k of catalog)
      for (const verb of ['list', 'get', 'create', 'update']) {
        expect(rolesAllow(main!.rules, verb, k.group, k.plural), `${verb} ${k.plural}.${k.group}`).toBe(true);
      }
  });

  it('grants the lease verbs, bound only in the lease namespace', () => {
    for (const verb of ['get', 'create', 'update', 'delete'])
      expect(rolesAllow(lease!.rules, verb, 'coordination.k8s.io', 'leases')).toBe(true);
    expect(rolesAllow(main!.rules, 'create', 'coordination.k8s.io', 'leases')).toBe(false);
    const rb = bindings.find(
      (d) =>
        d.kind === 'RoleBinding' &&
        (d as unknown as { roleRef: { name: string } }).roleRef.name === 'nsm-upgrade-lease',
    );
    expect(rb?.metadata.namespace).toBe(leaseNamespace);
  });

  it('uses no wildcards and nothing the tool never does', () => {
    for (const r of [...main!.rules, ...lease!.rules]) {
      for (const list of [r.verbs, r.apiGroups ?? [], r.resources ?? []]) expect(list).not.toContain('*');
    }
    expect(rolesAllow(main!.rules, 'create', '', 'pods')).toBe(false);
    expect(rolesAllow(main!.rules, 'get', '', 'nodes')).toBe(false);
    expect(rolesAllow(main!.rules, 'impersonate', '', 'users')).toBe(false);
    expect(rolesAllow(main!.rules, 'create', '', 'serviceaccounts/token')).toBe(false);
  });

  it('binds the ServiceAccount to the tool role cluster-wide', () => {
    const sa = bindings.find((d) => d.kind === 'ServiceAccount');
    const crb = bindings.find((d) => d.kind === 'ClusterRoleBinding') as Doc & {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    expect(crb.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'nsm-upgrade' });
    expect(crb.subjects).toEqual([
      { kind: 'ServiceAccount', name: sa!.metadata.name, namespace: sa!.metadata.namespace },
    ]);
  });
});
