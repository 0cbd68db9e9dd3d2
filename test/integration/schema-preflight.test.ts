/**
 * The preflight checks what the backup will hold against the target's CRD schemas (issue 17):
 * the test bed's fixture CRDs are loose (as an old or hand-made CRD can be), so the cluster holds
 * a RateLimit NSM 1.7.0's schema rejects (a negative burst) and a CircuitBreaker with a field it would prune. The
 * upgrade is refused (exit 3) naming both, nothing changed; --accept-pruning accepts the loss
 * but not the rejection; once the rejected object is fixed the manual upgrade runs: the restore
 * drops the accepted field, and the backup's schema-report.json and restore-report.json list it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectionPath, objectPath, core } from '../../src/kube/paths.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import type { HopSchemaReport } from '../../src/engine/phases/schema-report.ts';
import { testKube, uniqueName } from '../support/cluster.ts';
import {
  expectConverged,
  runUpgrade,
  setUpMesh,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';

const ns = uniqueName('schema-pf');
const rl = { group: 'specs.smi.nginx.com', version: 'v1alpha2', plural: 'ratelimits', namespaced: true };
const cb = { group: 'specs.smi.nginx.com', version: 'v1alpha1', plural: 'circuitbreakers', namespaced: true };
const target = { kind: 'Service', name: 'backend', namespace: ns };

describe("backed-up objects against the target's CRD schemas", () => {
  let s: Scenario | undefined;
  afterAll(async () => {
    await (
      await testKube()
    )
      .request({ method: 'DELETE', path: objectPath(core.namespaces, ns) })
      .catch(() => undefined);
    await s?.cleanup();
  });

  it('refuses an object the target rejects, and one that would lose a field unless --accept-pruning; nothing changed', async (ctx) => {
    ctx.skip(
      Boolean(process.env.NSM_CHARTS_DIR),
      "NSM_CHARTS_DIR installs the real CRDs, which refuse these objects at creation: the scenario needs the test bed's loose fixture CRDs",
    );
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0', namespaces: 1 };
    s = await setUpMesh(o);
    const kube = await testKube();
    await kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { metadata: { name: ns } } });
    await kube.request({
      method: 'POST',
      path: collectionPath(rl, ns),
      body: {
        apiVersion: 'specs.smi.nginx.com/v1alpha2',
        kind: 'RateLimit',
        metadata: { name: 'wordy' },
        spec: { destination: target, name: 'wordy', rate: '10r/s', burst: -1 },
      },
    });
    await kube.request({
      method: 'POST',
      path: collectionPath(cb, ns),
      body: {
        apiVersion: 'specs.smi.nginx.com/v1alpha1',
        kind: 'CircuitBreaker',
        metadata: { name: 'extra' },
        spec: { destination: target, errors: 3, timeoutSeconds: 30, retries: 2 },
      },
    });

    const refused = await runUpgrade(s, o);
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(
      `NSM 1.7.0's schema rejects RateLimit ${ns}/wordy: rejected: spec.burst: minimum: must be >= 0`,
    );
    expect(refused.stderr).toContain(`CircuitBreaker ${ns}/extra: would lose spec.retries`);
    expect(refused.stderr).toContain('--accept-pruning');
    expect((await detectInstall({ kube } as never, { meshNamespace: s.meshNamespace })).version).toBe('1.6.0');
    expect(fs.existsSync(path.join(s.backupDir, 'journal.ndjson'))).toBe(false);

    const accepted = await runUpgrade(s, o, ['--accept-pruning']);
    expect(accepted.exitCode, accepted.stderr).toBe(3);
    expect(accepted.stderr).toContain(`RateLimit ${ns}/wordy`);
    expect(accepted.stderr).not.toContain('CircuitBreaker');

    await kube.request({ method: 'PATCH', path: objectPath(rl, 'wordy', ns), body: { spec: { burst: 5 } } });
    // Manual: the restore drops the accepted loss (it creates with fieldValidation=Strict, which would refuse the field) and verify expects it gone.
    const r = await runUpgrade(s, o, ['--accept-pruning', '--strategy', 'manual']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    await expectConverged(s, '1.7.0');
    const restored = await kube.request<{ spec: Record<string, unknown> }>({ path: objectPath(cb, 'extra', ns) });
    expect(restored.spec).toEqual({ destination: target, errors: 3, timeoutSeconds: 30 });
    const restoreReport = JSON.parse(
      fs.readFileSync(path.join(s.backupDir, 'hop1', 'restore-report.json'), 'utf8'),
    ) as { items: { kind: string; name: string; outcome: string; pruned?: string[]; verified?: boolean }[] };
    expect(restoreReport.items.find((i) => i.name === 'extra')).toMatchObject({
      kind: 'CircuitBreaker',
      outcome: 'created',
      pruned: ['spec.retries'],
      verified: true,
    });
    expect(restoreReport.items.filter((i) => i.pruned)).toHaveLength(1);
    const report = JSON.parse(
      fs.readFileSync(path.join(s.backupDir, 'hop1', 'schema-report.json'), 'utf8'),
    ) as HopSchemaReport;
    expect(report).toMatchObject({ hop: 1, to: '1.7.0', source: 'NSM 1.7.0' });
    expect(report.counts.pruned).toBe(1);
    expect(report.counts.rejected).toBe(0);
    expect(report.items.find((i) => i.verdict === 'pruned')).toMatchObject({
      kind: 'CircuitBreaker',
      namespace: ns,
      name: 'extra',
      pruned: ['spec.retries'],
    });
  });
});
