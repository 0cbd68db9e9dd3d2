import { describe, expect, it } from 'vitest';
import {
  expectedFromFates,
  hopSettingFates,
  settingPaths,
  type HopSettingsInput,
} from '../../../src/upgrade/setting-fates.ts';
import type { SettingRow } from '../../../src/engine/types.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { formatPlan } from '../../../src/cli/plan-format.ts';
import { formatSettingsSummary } from '../../../src/cli/settings-format.ts';
import { Secret } from '../../../src/secret.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

const values = {
  mtls: { mode: 'strict', upstreamAuthority: { awsPCA: { arn: 'x' } } },
  tracing: { backend: 'jaeger', address: 'jaeger.obs:6831' },
  registry: {
    server: 'mirror.example.com/nsm',
    imageTag: '1.7.0',
    imagePullPolicy: 'Never',
    password: new Secret('hunter2', 'registry.password'),
  },
  spire: { extra: 'value' },
  enabledNamespaces: ['a', 'b'],
};
const input = (over: Partial<HopSettingsInput>): HopSettingsInput => ({
  from: '1.7.0',
  to: '2.0.0',
  strategy: 'manual',
  method: 'meshctl',
  environment: 'kubernetes',
  values,
  changes: {},
  ...over,
});
const byPath = (rows: SettingRow[]) => Object.fromEntries(rows.map((r) => [r.path, r]));

describe('settingPaths', () => {
  it("lists the install's values as settings: a known setting whole, others down to their leaves, nothing empty", () => {
    expect(
      settingPaths({
        a: { b: 1, c: {} },
        telemetry: { exporters: { otlp: { host: 'h', port: 1 } } },
        mtls: { upstreamAuthority: { x: 1 } },
        e: '',
      }),
    ).toEqual(['a.b', 'telemetry.exporters.otlp', 'mtls.upstreamAuthority']);
  });
});

describe('hopSettingFates', () => {
  it('manual nginx-meshctl 1.7 -> 2.0: carried by flag, dropped (removed, or no flag), image tag changed, key file needs input, injection default changed', () => {
    const rows = byPath(hopSettingFates(input({})));
    expect(rows['mtls.mode']).toMatchObject({
      before: 'strict',
      after: 'strict',
      fate: 'carried',
      flag: 'mtls-mode',
      reason: 'passed to nginx-meshctl deploy as --mtls-mode',
    });
    expect(rows['registry.server']).toMatchObject({ fate: 'carried' });
    expect(rows['tracing.backend']).toMatchObject({
      fate: 'dropped',
      reason: expect.stringContaining('2.0.0 removed it'),
    });
    expect(rows['tracing.backend']!.after).toBeUndefined();
    expect(rows['enabledNamespaces']).toMatchObject({ fate: 'dropped' });
    expect(rows['spire.extra']).toMatchObject({ fate: 'dropped', reason: expect.stringContaining('no flag') });
    expect(rows['registry.imageTag']).toMatchObject({ before: '1.7.0', after: '2.0.0', fate: 'changed' });
    expect(rows['registry.imagePullPolicy']).toMatchObject({
      fate: 'dropped',
      reason: expect.stringContaining('--pull-always'),
    });
    expect(rows['mtls.upstreamAuthority']).toMatchObject({
      fate: 'needs-input',
      reason: expect.stringContaining('--deploy-flag mtls-upstream-ca-conf=FILE'),
    });
    expect(rows['mtls.upstreamAuthority']!.after).toBeUndefined();
    expect(rows['registry.password']).toMatchObject({ fate: 'carried' });
    expect(rows['sidecar injection']).toMatchObject({
      fate: 'default-changed',
      after: expect.stringContaining('injector.nsm.nginx.com/auto-inject=enabled'),
    });
  });

  it('manual helm: the values file carries what has no flag; removed settings are dropped all the same', () => {
    const rows = byPath(hopSettingFates(input({ method: 'helm' })));
    expect(rows['spire.extra']).toMatchObject({ fate: 'carried', after: 'value' });
    expect(rows['mtls.upstreamAuthority']).toMatchObject({ fate: 'carried' });
    expect(rows['registry.imagePullPolicy']).toMatchObject({ fate: 'carried', after: 'Never' });
    expect(rows['tracing.address']).toMatchObject({ fate: 'dropped' });
  });

  it('in place 1.6 -> 1.7: everything carried (tracing is only deprecated), no default change', () => {
    const rows = hopSettingFates(input({ from: '1.6.0', to: '1.7.0', strategy: 'in-place' }));
    expect(new Set(rows.map((r) => r.fate))).toEqual(new Set(['carried', 'changed']));
    expect(rows.find((r) => r.fate === 'changed')!.path).toBe('registry.imageTag');
  });

  it('--deploy-flag: a changed value (typed as the chart holds it), a new one, and one the target removed', () => {
    const rows = byPath(
      hopSettingFates(
        input({ changes: { 'mtls-mode': 'permissive', 'enable-udp': 'true', 'disable-auto-inject': 'true' } }),
      ),
    );
    expect(rows['mtls.mode']).toMatchObject({
      before: 'strict',
      after: 'permissive',
      fate: 'changed',
      reason: '--deploy-flag mtls-mode',
    });
    expect(rows['enableUDP']).toMatchObject({ before: false, after: true, fate: 'changed' });
    expect(rows['disableAutoInjection']).toMatchObject({
      fate: 'dropped',
      reason: expect.stringContaining('is ignored'),
    });
  });

  it('the expectations verify checks on the new release: what was carried or changed, settings with a chart path only', () => {
    const exp = expectedFromFates(hopSettingFates(input({ method: 'helm' })));
    expect(exp).toMatchObject({
      'mtls.mode': 'strict',
      'registry.imageTag': '2.0.0',
      'registry.server': 'mirror.example.com/nsm',
    });
    expect(exp).not.toHaveProperty('tracing.backend');
    expect(exp).not.toHaveProperty('spire.extra');
    expect(exp).not.toHaveProperty('sidecar injection');
  });
});

describe('in the plan, the backup and the summary', () => {
  const install: Install = {
    namespace: 'nginx-mesh',
    version: '1.6.0',
    method: 'meshctl',
    release: 'nginx-service-mesh',
    releaseRevision: 1,
    releaseStatus: 'deployed',
    releaseStuck: false,
    chartVersion: '0.6.0',
    environment: 'kubernetes',
    values,
    controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.6.0' },
    warnings: [],
  };
  const opts: PlanOptions = {
    to: '2.0.0',
    strategy: 'manual',
    meshctlBinaries: { '1.6.0': '/m16', '1.7.0': '/m17', '2.0.0': '/m20' },
    helm: undefined,
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: {},
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: '/b',
    timeout: '10m',
  };
  const plan = buildPlan(install, opts);

  it('each hop has its rows, the second seeing what the first carried', () => {
    expect(plan.hops.map((h) => h.settings!.length > 0)).toEqual([true, true]);
    const hop2 = byPath(plan.hops[1]!.settings!);
    // Hop 1 (manual, nginx-meshctl) dropped what has no flag: hop 2 never sees it.
    expect(byPath(plan.hops[0]!.settings!)['spire.extra']!.fate).toBe('dropped');
    expect(hop2['spire.extra']).toBeUndefined();
    expect(hop2['tracing.backend']!.fate).toBe('dropped');
  });

  it('text and json show them; secrets are redacted', () => {
    const text = formatPlan(plan, 'text');
    expect(text).toContain('Settings (before -> after 2.0.0):');
    expect(text).toMatch(/tracing\.backend\s+jaeger -> \(dropped\)\s+DROPPED: 2\.0\.0 removed it/);
    expect(text).toMatch(/mtls\.upstreamAuthority\s+\{"awsPCA":\{"arn":"x"\}\} -> \(needs input\)\s+NEEDS INPUT/);
    expect(text).not.toContain('hunter2');
    const json = formatPlan(plan, 'json');
    expect(json).not.toContain('hunter2');
    expect(JSON.parse(json).hops[1].settings.find((r: SettingRow) => r.path === 'registry.password').before).toBe(
      '<redacted>',
    );
  });

  it('the summary marks what verify found on the redeployed mesh', () => {
    const lines = formatSettingsSummary(plan.hops, [
      {
        step: 'hop2.verify',
        items: ['setting mtls.mode: expected "strict", release nginx-service-mesh has "permissive"'],
      },
    ]);
    expect(
      lines.find(
        (l) =>
          l.includes('mtls.mode') &&
          l.includes('-> strict') &&
          l.includes('2.0.0') === false &&
          l.includes('[NOT on the new mesh]'),
      ),
    ).toBeDefined();
    expect(lines.filter((l) => l.includes('mtls.mode') && l.endsWith('[on the new mesh]'))).toHaveLength(1);
    // Dropped on hop 2: nothing to find on the new mesh.
    expect(lines.filter((l) => l.includes('tracing.backend') && l.includes('DROPPED'))[0]).not.toContain('[');
  });
});
