/**
 * The vendor's documented manual upgrade, as an experienced operator scripts it (bench/window.ts's
 * baseline): every wait polls or watches, none is a fixed sleep, and what can run at once does.
 *
 *   1. back up: the six `kubectl get <plural>.<group> -A -o json` at once, each through jq deleting
 *      what a create refuses (resourceVersion, uid, creationTimestamp, generation, managedFields, status)
 *   2. `nginx-meshctl remove -y` with the installed version's binary, then `kubectl wait --for=delete` on
 *      the CRDs it deletes and (off OpenShift) the mesh namespace (deploy refuses while they are still going)
 *   3. OpenShift: `kubectl rollout restart deployment -n NS` for every namespace at once, `kubectl rollout
 *      status` for each Deployment (P at once), then `kubectl wait --for=delete job/csi-driver-sentinel`
 *   4. `nginx-meshctl deploy` with the target's binary and the install's settings, then
 *      `kubectl wait --for=condition=Available deployment --all -n MESH`
 *   5. `kubectl wait --for condition=established` on the six CRDs, then `kubectl create -f` of the six
 *      files at once, each again (every second) while it fails for anything but AlreadyExists (the
 *      mesh's validating webhook not answering yet)
 *   6. the restart of step 3 again, onto the new sidecars
 *
 * Each phase is timed on this machine's clock; the window's figures are read as the tool reads its
 * own (src/engine/window-observe.ts): the removal's start, the CRDs' deletionTimestamp (watched), the control
 * plane pods' Ready transitions, the restored objects' creationTimestamp.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { Kube } from '../src/kube/client.ts';
import { mapLimit } from '../src/concurrency.ts';
import { meshCrdSelector, resourceName } from '../src/mesh/catalog.ts';
import { controlPlaneReadyAt, watchCrdDeletions } from '../src/engine/window-observe.ts';
import type { Deps } from '../src/deps.ts';
import { realClock } from '../src/clock.ts';
import { notYet, ready, waitFor } from '../src/wait.ts';
import { meshctlFor } from '../test/support/real-meshctl.ts';
import { kubeconfig, kubectlBin } from './local.ts';
import { meshctl, userKinds, type Scenario } from './window-setup.ts';

export interface ScriptResult {
  phases: { name: string; seconds: number }[];
  removeAt: string;
  /** The restart onto the new sidecars started. */
  restartAt: string;
  crdDeletedAt?: string;
  controlPlaneReadyAt?: string;
}

const jqClean =
  'del(.items[].metadata.resourceVersion, .items[].metadata.uid, .items[].metadata.creationTimestamp, .items[].metadata.generation, .items[].metadata.managedFields, .items[].status)';

async function kubectl(args: string[], opts: { reject?: boolean } = {}): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { reject: false });
  if (r.exitCode !== 0 && opts.reject !== false)
    throw new Error(`kubectl ${args.join(' ')} exited ${r.exitCode}: ${String(r.stderr).slice(-2000)}`);
  return { exitCode: r.exitCode ?? 1, stderr: String(r.stderr) };
}

/** `kubectl rollout restart deployment -n NS` for every namespace at once, then `rollout status` for each Deployment, `parallelism` at once. */
export async function restartAll(s: Scenario, deployments: string[][], parallelism: number): Promise<void> {
  await Promise.all(s.appNamespaces.map((ns) => kubectl(['rollout', 'restart', 'deployment', '-n', ns])));
  const each = s.appNamespaces.flatMap((ns, i) => (deployments[i] ?? []).map((d) => ({ ns, d })));
  await mapLimit(each, parallelism, ({ ns, d }) =>
    kubectl(['rollout', 'status', '-n', ns, `deployment/${d}`, '--timeout', '15m']),
  );
}

export async function runScript(
  kube: Kube,
  s: Scenario,
  opts: { parallelism: number; deployments: string[][]; dir: string },
): Promise<ScriptResult> {
  const phases: ScriptResult['phases'] = [];
  const phase = async (name: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    phases.push({ name, seconds: (performance.now() - t0) / 1000 });
  };
  await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const file = (k: (typeof userKinds)[number]) => path.join(opts.dir, `${resourceName(k)}.json`);
  await phase('back up: the six kubectl get -A -o json | jq (at once)', () =>
    Promise.all(
      userKinds.map(async (k) => {
        const out = await execa(kubectlBin, [
          '--kubeconfig',
          kubeconfig,
          'get',
          resourceName(k),
          '-A',
          '-o',
          'json',
        ]).pipe('jq', [jqClean]);
        await fs.writeFile(file(k), String(out.stdout), { mode: 0o600 });
      }),
    ),
  );

  // The window's marks, as the tool takes its own.
  const deps = { kube, clock: realClock, log: { debug: () => undefined } } as unknown as Deps;
  let crdDeletedAt: string | undefined;
  const watcher = await watchCrdDeletions(deps, new Set(userKinds.map(resourceName)), async (_name, time) => {
    if (!crdDeletedAt || Date.parse(time) < Date.parse(crdDeletedAt)) crdDeletedAt = time;
  });
  const removeAt = new Date().toISOString();
  await phase(`nginx-meshctl ${s.from} remove -y`, () =>
    meshctl(s.from, ['-n', s.meshNamespace, 'remove', '-y', '-t', '10m']),
  );
  await watcher.stop();
  // nginx-meshctl remove returns while its CRDs are still being deleted, and deploy refuses ("mesh already
  // exists: CRDs detected") until they are gone: an operator who met that once waits for them first.
  // Off OpenShift remove deletes the mesh namespace too, and deploy fails into a namespace still terminating.
  await phase(`kubectl wait --for=delete crd -l ${meshCrdSelector} (and the mesh namespace, off OpenShift)`, () =>
    Promise.all([
      kubectl(['wait', '--for=delete', 'crd', '-l', meshCrdSelector, '--timeout', '15m'], { reject: false }),
      ...(s.environment === 'openshift'
        ? []
        : [kubectl(['wait', '--for=delete', `namespace/${s.meshNamespace}`, '--timeout', '15m'], { reject: false })]),
    ]),
  );
  if (s.environment === 'openshift') {
    await phase('restart out of the mesh (rollout restart per namespace at once, rollout status)', () =>
      restartAll(s, opts.deployments, opts.parallelism),
    );
    await phase('kubectl wait --for=delete job/csi-driver-sentinel', () =>
      kubectl(['wait', '--for=delete', 'job/csi-driver-sentinel', '-n', s.meshNamespace, '--timeout', '15m'], {
        reject: false,
      }),
    );
  }
  await phase(`nginx-meshctl ${s.to} deploy`, () =>
    meshctl(s.to, ['-n', s.meshNamespace, 'deploy', '--environment', s.environment, '-t', '10m']),
  );
  await phase('kubectl wait --for=condition=Available deployment --all', () =>
    kubectl(['wait', '--for=condition=Available', 'deployment', '--all', '-n', s.meshNamespace, '--timeout', '15m']),
  );
  const readyAt = await controlPlaneReadyAt(deps, s.meshNamespace);
  await phase('kubectl wait --for condition=established (the six CRDs)', () =>
    kubectl([
      'wait',
      '--for',
      'condition=established',
      ...userKinds.map((k) => `crd/${resourceName(k)}`),
      '--timeout',
      '15m',
    ]),
  );
  // Each file again every second while it fails for anything but AlreadyExists, as a script's loop would.
  await phase('kubectl create -f (the six files at once, again while the webhook refuses)', () =>
    Promise.all(
      userKinds.map((k) =>
        waitFor(
          { clock: realClock, timeoutMs: 600_000, intervalMs: 1000, what: `kubectl create -f ${file(k)} to succeed` },
          async () => {
            const r = await kubectl(['create', '-f', file(k)], { reject: false });
            const refused = r.stderr.split('\n').filter((l) => l.trim() && !/AlreadyExists|already exists/.test(l));
            return r.exitCode === 0 || refused.length === 0
              ? ready(undefined)
              : notYet(refused.slice(0, 3).join(' | '));
          },
        ),
      ),
    ),
  );
  const restartAt = new Date().toISOString();
  await phase('restart onto the new sidecars (rollout restart per namespace at once, rollout status)', () =>
    restartAll(s, opts.deployments, opts.parallelism),
  );
  return {
    phases,
    removeAt,
    restartAt,
    ...(crdDeletedAt ? { crdDeletedAt } : {}),
    ...(readyAt ? { controlPlaneReadyAt: readyAt } : {}),
  };
}

export const meshctlKind = (version: string) => meshctlFor(version).kind;
