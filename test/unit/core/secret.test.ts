import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, cloneValues, isSecretPath, markSecrets, redactDeep, revealDeep, scrub } from '../../../src/secret.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { formatPlan } from '../../../src/cli/plan-format.ts';
import { parseDeployFlags } from '../../../src/upgrade/plan-inputs.ts';
import { createLog } from '../../../src/log.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

const password = 'pa55-w0rd-xyz';

describe('Secret', () => {
  it('shows <redacted> in JSON, String, template strings and util.inspect; reveal() gives the value', () => {
    const s = new Secret(password, 'registry.password');
    expect(JSON.stringify({ s })).toBe('{"s":"<redacted>"}');
    expect(`${s}`).toBe('<redacted>');
    expect(inspect({ s })).not.toContain(password);
    expect(s.reveal()).toBe(password);
  });
  it('scrub() removes every value ever wrapped from printed text, and the logger scrubs each line', () => {
    new Secret(password, 'x');
    expect(scrub(`helm: error: auth failed for ${password}!`)).toBe('helm: error: auth failed for <redacted>!');
    const lines: string[] = [];
    createLog({ verbose: 1, write: (l) => lines.push(l) }).debug(`running: x --p ${password}`);
    expect(lines).toEqual(['debug: running: x --p <redacted>']);
  });
  it('marks the credentials of every NSM chart and nothing else', () => {
    for (const p of [
      'registry.password',
      'registry.key',
      'mtls.upstreamAuthority.disk.key',
      'mtls.upstreamAuthority.awsPCA.awsSecretAccessKey',
      'mtls.upstreamAuthority.awsSecret.awsSecretToken',
      'mtls.upstreamAuthority.vault.certAuth.clientKey',
      'mtls.upstreamAuthority.vault.tokenAuth.token',
    ]) {
      expect({ p, secret: isSecretPath(p) }).toEqual({ p, secret: true });
    }
    for (const p of [
      'registry.username',
      'registry.server',
      'mtls.caKeyType',
      'mtls.spireServerKeyManager',
      'mtls.upstreamAuthority.disk.bundle',
    ]) {
      expect({ p, secret: isSecretPath(p) }).toEqual({ p, secret: false });
    }
    const marked = markSecrets({ registry: { server: 'r', password }, mtls: { mode: 'strict' } });
    expect(JSON.stringify(marked)).toBe('{"registry":{"server":"r","password":"<redacted>"},"mtls":{"mode":"strict"}}');
    expect(revealDeep(marked)).toEqual({ registry: { server: 'r', password }, mtls: { mode: 'strict' } });
    // structuredClone would lose the value; cloneValues keeps the Secret.
    expect(revealDeep(cloneValues(marked))).toEqual(revealDeep(marked));
    expect(redactDeep(marked)).toEqual({ registry: { server: 'r', password: '<redacted>' }, mtls: { mode: 'strict' } });
  });
});

describe('a registry password in the plan', () => {
  const install = (method: 'meshctl' | 'helm'): Install => ({
    namespace: 'nginx-mesh',
    version: '1.7.0',
    method,
    release: method === 'helm' ? 'nsm' : 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.7.0',
    environment: 'kubernetes',
    values: markSecrets({ registry: { server: 'mirror.example/nsm', username: 'robot', password } }),
    controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.7.0' },
    warnings: [],
  });
  const options = (over: Partial<PlanOptions> = {}): PlanOptions => ({
    to: '2.0.0',
    strategy: 'manual',
    meshctlBinaries: { '1.7.0': '/m/1.7.0', '2.0.0': '/m/2.0.0' },
    helm: { bin: '/bin/helm', major: 3 },
    chart: { kind: 'versioned-dir', dir: '/charts' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/b',
    timeout: '10m',
    ...over,
  });

  it('meshctl: carried to deploy as a Secret, <redacted> in plan text, json and yaml, with a note about the vendor command line', () => {
    const plan = buildPlan(install('meshctl'), options());
    const deploy = plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!;
    const arg = deploy.commands[0]!.args[deploy.commands[0]!.args.indexOf('--registry-password') + 1];
    expect(arg instanceof Secret && arg.reveal()).toBe(password);
    for (const f of ['text', 'json', 'yaml'] as const) {
      const out = formatPlan(plan, f);
      expect(out).not.toContain(password);
      expect(out).toContain('<redacted>');
    }
    expect(formatPlan(plan, 'text')).toMatch(/--registry-password <redacted>/);
    const note = plan.warnings.find((w) => /registry password only on its command line/.test(w.message));
    expect(note?.message).toMatch(/every user of this machine can read it in `ps`/);
    // It names the ways to keep the password off the command line.
    expect(note?.message).toMatch(/--method helm \(the password then goes only into a 0600 values file/);
    expect(note?.message).toMatch(/registry key file .*--deploy-flag registry-key=FILE/);
  });
  it('meshctl with a registry key file instead of the password: no password on the command line, no warning; helm: none either', () => {
    const changes = parseDeployFlags(['registry-key=/keys/gcr.json', 'registry-username=', 'registry-password=']);
    const plan = buildPlan(install('meshctl'), options({ deployFlagChanges: changes }));
    const deploy = plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!;
    expect(deploy.commands[0]!.args.map(String).join(' ')).toContain(
      '--registry-username  --registry-password <redacted> --registry-key /keys/gcr.json',
    );
    expect(JSON.stringify(plan)).not.toContain(password);
    expect(plan.warnings.some((w) => /only on its command line/.test(w.message))).toBe(false);
    expect(buildPlan(install('helm'), options()).warnings.some((w) => /only on its command line/.test(w.message))).toBe(
      false,
    );
  });
  it('helm: only in the values file content, never in an argument', () => {
    const plan = buildPlan(install('helm'), options());
    const deploy = plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!;
    expect(deploy.commands.flatMap((c) => c.args).some((a) => typeof a !== 'string')).toBe(false);
    expect(deploy.kind === 'deploy' && revealDeep(deploy.params.files[0]!.content)).toMatchObject({
      values: { registry: { password } },
    });
    expect(JSON.stringify(plan)).not.toContain(password);
  });
  it('--deploy-flag registry-password=... becomes a Secret; a malformed flag is not echoed when it may hold one', () => {
    const changes = parseDeployFlags([`registry-password=${password}`, 'mtls-mode=strict']);
    expect(JSON.stringify(changes)).toBe('{"registry-password":"<redacted>","mtls-mode":"strict"}');
    const plan = buildPlan(install('meshctl'), options({ deployFlagChanges: changes }));
    expect(JSON.stringify(plan)).not.toContain(password);
    expect(() => parseDeployFlags([`registry-password${password}`])).toThrow(/not NAME=VALUE$/);
  });
});
