/**
 * A manual 1.7.0 -> 2.0.0 upgrade carries every setting across and checks it on the redeployed mesh:
 * the new release's values and MeshConfig nginx-mesh-config (2.0). A setting that does not arrive is
 * reported as not converged (exit 4), not passed over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { expectConverged, runUpgrade, setUpMesh, type Scenario, type ScenarioOptions } from '../support/upgrade-scenario.ts';
import { detectInstall } from '../../src/mesh/detect.ts';
import { valueAt } from '../../src/values.ts';

let current: Scenario | undefined;
afterEach(async () => { await current?.cleanup(); current = undefined; });

describe('carried settings on a manual 1.7.0 -> 2.0.0 upgrade', () => {
  it('arrive in the new release and in MeshConfig nginx-mesh-config, and verify says it checked them', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.7.0', to: '2.0.0', optIn: true };
    current = await setUpMesh(o);
    const r = await runUpgrade(current, o, ['--deploy-flag', 'mtls-mode=strict', '--deploy-flag', 'nginx-error-log-level=debug', '--deploy-flag', 'client-max-body-size=8m', '--deploy-flag', 'enable-udp=true']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/carried settings checked/);
    const install = await detectInstall({ kube: current.kube } as never, { meshNamespace: current.meshNamespace });
    expect([valueAt(install.values, 'mtls.mode'), valueAt(install.values, 'nginxErrorLogLevel'), valueAt(install.values, 'clientMaxBodySize'), valueAt(install.values, 'enableUDP')]).toEqual(['strict', 'debug', '8m', true]);
    const mc = await current.kube.request<{ spec: Record<string, unknown> }>({ path: `/apis/nsm.nginx.com/v1alpha2/namespaces/${current.meshNamespace}/meshconfigs/nginx-mesh-config` });
    expect([valueAt(mc.spec, 'mtls.mode'), valueAt(mc.spec, 'nginxErrorLogLevel'), valueAt(mc.spec, 'clientMaxBodySize')]).toEqual(['strict', 'debug', '8m']);
    await expectConverged(current, '2.0.0');
  });
});
