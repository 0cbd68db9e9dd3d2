/**
 * Issue 23: nothing in the user's environment points a child command at another cluster. The runner
 * leaves out KUBECONFIG and helm's overrides (helm pkg/cli/environment.go) for every child; what the
 * caller sets on purpose (Command.env, the runner's env) stays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRunner } from '../../../src/exec/runner.ts';
import { childEnvironment, clusterOverrideVariables } from '../../../src/exec/child-env.ts';
import { memoryLog } from '../../../src/log.ts';

const saved = new Map<string, string | undefined>();
afterEach(() => {
  for (const [k, v] of saved)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  saved.clear();
});
function setEnv(k: string, v: string): void {
  if (!saved.has(k)) saved.set(k, process.env[k]);
  process.env[k] = v;
}

describe('the environment of child commands', () => {
  it('holds none of the variables that would point helm or nginx-meshctl at another cluster', async () => {
    for (const k of clusterOverrideVariables) setEnv(k, `from-the-shell-${k}`);
    setEnv('NSM_KEEP_ME', 'kept');
    const r = await createRunner({ dryRun: false, log: memoryLog() }).run({ bin: 'env', args: [], writes: false });
    expect(r.exitCode).toBe(0);
    const names = r.stdout.split('\n').map((l) => l.split('=')[0]);
    for (const k of clusterOverrideVariables) expect(names, k).not.toContain(k);
    expect(r.stdout).toContain('NSM_KEEP_ME=kept');
    expect(r.stdout).toContain(`PATH=${process.env.PATH}`);
  });

  it('lists every kube override helm reads from its environment', () => {
    expect(clusterOverrideVariables).toEqual(
      expect.arrayContaining([
        'KUBECONFIG',
        'HELM_KUBECONTEXT',
        'HELM_KUBEAPISERVER',
        'HELM_KUBETOKEN',
        'HELM_KUBECAFILE',
        'HELM_KUBEASUSER',
        'HELM_KUBEASGROUPS',
        'HELM_KUBEINSECURE_SKIP_TLS_VERIFY',
        'HELM_KUBETLS_SERVER_NAME',
        'HELM_NAMESPACE',
        'HELM_DRIVER',
      ]),
    );
  });

  it('keeps what the caller sets on purpose', async () => {
    setEnv('KUBECONFIG', '/home/me/.kube/config');
    const runner = createRunner({ dryRun: false, log: memoryLog(), env: { KUBECONFIG: '/fleet/passes/this' } });
    const r = await runner.run({ bin: 'sh', args: ['-c', 'echo "$KUBECONFIG|$A"'], writes: false, env: { A: 'b' } });
    expect(r.stdout).toBe('/fleet/passes/this|b');
    expect(childEnvironment({ KUBECONFIG: 'x', HOME: '/h', UNSET: undefined })).toEqual({ HOME: '/h' });
  });
});
