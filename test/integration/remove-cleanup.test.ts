/**
 * Real nginx-meshctl remove skips deleting the mesh CRDs and namespace when its `helm uninstall`
 * reported an error (a failed hook), though the release is gone. The tool must finish that cleanup
 * itself, say so, and deploy: real deploy refuses while any mesh CRD exists. A wrapper around the
 * 1.6.0 stand-in behaves that way: it uninstalls the release (helm uninstall --no-hooks) and exits 1
 * with a hook error, leaving CRDs and namespace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expectConverged,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { clusterEnv, runTool } from '../support/cluster.ts';
import { chartsDir, meshctlBin } from '../support/mesh-scenario.ts';
import { meshctlWrapper } from '../support/failing-deploy.ts';

let current: Scenario | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function removeWithFailedHook(dir: string, namespace: string): string {
  const bin = path.join(dir, 'nginx-meshctl-1.6.0');
  const helm = `'${clusterEnv().HELM3}' --kubeconfig '${clusterEnv().KUBECONFIG}' -n '${namespace}'`;
  return meshctlWrapper(bin, meshctlBin('1.6.0'), {
    passThrough: '*" --help "*',
    on: 'remove',
    body: [
      // The uninstall itself goes through (every object of the release deleted); only its hook "fails".
      `  ${helm} uninstall nginx-service-mesh --no-hooks >/dev/null || exit 2`,
      '  echo "Error: error removing NGINX Service Mesh: uninstallation completed with 1 error(s): job failed: BackoffLimitExceeded" >&2',
      '  exit 1;;',
    ],
  });
}

describe('a remove that left its cleanup undone', () => {
  it('is finished by the tool (CRDs and namespace deleted, said so), then the deploy runs and converges', async () => {
    const o: ScenarioOptions & { to: string } = { method: 'meshctl', from: '1.6.0', to: '1.7.0' };
    current = await setUpMesh(o);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-remove-cleanup-'));
    const remover = removeWithFailedHook(tmp, current.meshNamespace);
    const args = toolArgs(current, o, ['--strategy', 'manual']);
    args[args.indexOf(meshctlBin('1.6.0'))] = remover;
    const r = await runTool(args, { env: { NSM_CHARTS_DIR: chartsDir } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/the removal reported an error, but the mesh is gone/);
    expect(out).toMatch(/the removal left part of its cleanup undone; deleted it: CRD [a-z.-]+, .*namespace mesh-/);
    await expectConverged(current, '1.7.0');
  });
});
